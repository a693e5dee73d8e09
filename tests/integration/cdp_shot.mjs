// Screenshot of the page a running headless Chromium shows, through the
// DevTools protocol (the dashboard's browser test, it_dash.sh): unlike
// `chromium --screenshot`, it captures a page that has been live for a
// while, at a chosen size. Fails if the page recorded a script error.
// usage: node --experimental-websocket cdp_shot.mjs DevToolsActivePort OUT.png WIDTH HEIGHT
import { readFileSync, writeFileSync } from 'node:fs';

const [portFile, out, width, height] = process.argv.slice(2);
const port = readFileSync(portFile, 'utf8').split('\n')[0].trim();
const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const page = targets.find(t => t.type === 'page');
if (!page) throw new Error('no page in the browser');
const ws = new WebSocket(page.webSocketDebuggerUrl);
await new Promise((ok, ko) => { ws.onopen = ok; ws.onerror = ko; });
let id = 0;
const pending = new Map();
ws.onmessage = e => {
  const m = JSON.parse(e.data);
  if (pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); }
};
const call = (method, params = {}) => new Promise((ok, ko) => {
  const n = ++id;
  pending.set(n, m => m.error ? ko(new Error(method + ': ' + m.error.message)) : ok(m.result));
  ws.send(JSON.stringify({ id: n, method, params }));
});
await call('Emulation.setDeviceMetricsOverride',
  { width: +width, height: +height, deviceScaleFactor: 1, mobile: false });
await new Promise(r => setTimeout(r, 1500)); // the charts follow the new size
const shot = await call('Page.captureScreenshot', { format: 'png' });
writeFileSync(out, Buffer.from(shot.data, 'base64'));
// the page counts its own script errors (window.pageErrors): none allowed
const ev = await call('Runtime.evaluate',
  { expression: 'JSON.stringify(window.pageErrors||null)', returnByValue: true });
ws.close();
console.log(`screenshot ${out}: ${width}x${height}, page errors: ${ev.result.value}`);
process.exit(ev.result.value === '[]' ? 0 : 1);
