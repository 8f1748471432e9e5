-- wrk script of make bench-http: sends the requests of a file in turn, one
-- per line ("PATH<TAB>BODY"), and prints a JSON summary at the end.
--   wrk ... -s replay.lua URL -- FILE CONTENT_TYPE
local reqs = {}
local n = 0
local i = 0

function init(args)
  local f = assert(io.open(args[1], "r"))
  local ctype = args[2] or "text/xml"
  for line in f:lines() do
    local tab = line:find("\t", 1, true)
    if tab then
      n = n + 1
      reqs[n] = wrk.format("POST", line:sub(1, tab - 1), {["Content-Type"] = ctype},
                           line:sub(tab + 1))
    end
  end
  f:close()
end

function request()
  i = i % n + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
      'WRKJSON {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,' ..
      '"write":%d,"status":%d,"timeout":%d},"p50_us":%d,"p99_us":%d,"p999_us":%d,' ..
      '"mean_us":%.1f,"max_us":%d}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.mean,
      latency.max))
end
