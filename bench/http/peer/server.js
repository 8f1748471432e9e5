// The peer of make bench-http: npm `wechat` (node-webot) on Express, as a
// WeChat middleware is usually deployed. It checks the signature, parses
// the XML and replies with one fixed text: no dialog, no database.
//
//   node server.js PORT TOKEN
const express = require('express');
const wechat = require('wechat');

const port = Number(process.argv[2] || 18082);
const token = process.argv[3] || 'benchtoken';
const app = express();
app.use('/wechat', wechat({ token, checkSignature: true }, (req, res) => {
  res.reply('您好，我是广西电网95598智能客服，请问有什么可以帮您？');
}));
app.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
