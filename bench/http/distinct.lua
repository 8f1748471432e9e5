-- wrk script of make bench-http's customer growth run: POST /api/chat, each
-- request from a customer never seen before ("g<FIRST+k>"), until COUNT of
-- them have been answered; then it writes DONEFILE (wrk's main thread
-- sleeps its whole -d: run.py then stops wrk with SIGINT, and the summary
-- is printed).
--   wrk ... -s distinct.lua URL -- FIRST COUNT DONEFILE
local texts = {"上个月电费多少", "我欠多少钱", "我家停电了吗", "你能做什么", "你好",
               "今天天气好吗"}
local first, count, sent, answered, donefile = 0, 0, 0, 0, nil

function init(args)
  first = tonumber(args[1])
  count = tonumber(args[2])
  donefile = args[3]
end

function request()
  if sent >= count then return wrk.format("GET", "/healthz") end
  local body = string.format('{"user":"g%d","text":"%s"}', first + sent, texts[sent % #texts + 1])
  sent = sent + 1
  return wrk.format("POST", "/api/chat", {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  answered = answered + 1
  if answered == count and donefile then
    local f = io.open(donefile, "w")
    f:write("done\n")
    f:close()
  end
end

function done(summary, latency, requests)
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"errors":{"status":%d}}\n',
                         summary.requests, summary.duration, summary.errors.status))
end
