/* The page `amplink dash` serves at /: a live chart of the temperature and
 * ADC series (Server-Sent Events from /events, drawn on canvases, no
 * external script) and a form that sends set-duty commands. With
 * ?autotest=1 it drives itself (the browser test): waits for points, sends
 * a duty, and reports what it saw to /api/report. @@TOKEN@@ is replaced
 * with the run's token, which every POST carries (X-Amplink-Token). */
#ifndef AMPLINK_DASH_PAGE_H
#define AMPLINK_DASH_PAGE_H
/* The page is laid out as HTML, not as C: */
/* clang-format off */
static const char dash_page[] =
"<!doctype html><html><head><meta charset=utf-8><title>amplink dash</title>\n"
"<style>body{font:14px sans-serif;margin:1em}canvas{border:1px solid #999;display:block;"
"margin:.3em 0}#ack{font-weight:bold}</style></head><body>\n"
"<h1>amplink telemetry</h1>\n"
"<div>temperature (every 100 ms): <span id=tv>-</span> C, points <span id=tn>0</span></div>\n"
"<canvas id=temp width=800 height=180></canvas>\n"
"<div>ADC (every second): <span id=av>-</span>, points <span id=an>0</span></div>\n"
"<canvas id=adc width=800 height=180></canvas>\n"
"<form id=f>duty <input id=duty type=number min=0 max=100 value=50> %\n"
"<button>Set duty</button> <span id=ack></span></form>\n"
"<script>\n"
"const S={temp:[],adc:[]};\n"
"function draw(n){const c=document.getElementById(n),g=c.getContext('2d'),d=S[n];\n"
" g.clearRect(0,0,c.width,c.height);if(d.length<2)return;\n"
" let lo=Math.min(...d),hi=Math.max(...d);if(hi-lo<1e-9){lo-=1;hi+=1}\n"
" g.strokeStyle=n=='temp'?'#c33':'#36c';g.lineWidth=2;g.beginPath();\n"
" d.forEach((v,i)=>{const x=i*(c.width-1)/(d.length-1),y=c.height-4-(v-lo)/(hi-lo)*(c.height-8);\n"
"  i?g.lineTo(x,y):g.moveTo(x,y)});g.stroke();\n"
" g.fillStyle='#000';g.fillText(hi.toFixed(1),2,10);g.fillText(lo.toFixed(1),2,c.height-2);}\n"
"function add(n,v){S[n].push(v);if(S[n].length>300)S[n].shift();\n"
" document.getElementById(n[0]+'v').textContent=v;\n"
" document.getElementById(n[0]+'n').textContent=S[n].length;draw(n);}\n"
"const TOKEN='@@TOKEN@@';\n"
"const es=new EventSource('/events');\n"
"es.addEventListener('sample',e=>{const m=JSON.parse(e.data);add(m.series,m.value)});\n"
"es.addEventListener('ack',e=>{const m=JSON.parse(e.data);\n"
" document.getElementById('ack').textContent='ACK: duty '+m.duty+'% ('+m.status+')'});\n"
"async function setDuty(v){const r=await fetch('/api/duty?value='+encodeURIComponent(v),"
"{method:'POST',headers:{'X-Amplink-Token':TOKEN}});\n"
" const j=await r.json();document.getElementById('ack').textContent=r.ok?\n"
"  'ACK: duty '+j.duty+'% ('+j.status+')':'error: '+j.error;return [r.ok,j]}\n"
"document.getElementById('f').addEventListener('submit',e=>{e.preventDefault();\n"
" setDuty(document.getElementById('duty').value)});\n"
"if(location.search.indexOf('autotest=1')>=0){(async()=>{\n"
" while(S.temp.length<5)await new Promise(r=>setTimeout(r,100));\n"
" const [ok,j]=await setDuty(60);\n"
" await new Promise(r=>setTimeout(r,300));\n"
" const rep={points:S.temp.length+S.adc.length,temp_points:S.temp.length,acked:ok&&j.status=='ok',\n"
"  duty:j.duty,ack_text:document.getElementById('ack').textContent};\n"
" await fetch('/api/report',{method:'POST',headers:{'X-Amplink-Token':TOKEN},\n"
"  body:JSON.stringify(rep)});\n"
" document.title='amplink-autotest-done';})()}\n"
"</script></body></html>\n";
/* clang-format on */
#endif
