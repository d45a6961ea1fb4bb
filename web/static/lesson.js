// The lesson page's video tracking, inlined into the page. It credits the
// 15-second segments the video actually PLAYED (timeupdate while not seeking,
// at any speed; a seek is never credited), pings each segment once it is
// played, plus pauses and the end, batches pings while offline and sends what
// is left with sendBeacon when the page goes away.
(function () {
var v = document.querySelector('video[data-token]');
if (!v) return;
var d = v.dataset, S = 15, tok = d.token, dur = +d.duration, n = Math.ceil(dur / S), st = +d.start || 0,
	bar = document.querySelectorAll('[data-testid=segments]>*'), pct = document.querySelector('[data-testid=watched-percent]'),
	got = [], done = [], q = [], last = null, wall = 0, timer = 0, busy = 0, K = 'morsel-pings',
	sid = Array.from(crypto.getRandomValues(new Uint8Array(12)), function (b) { return (b + 256).toString(16).slice(1); }).join('');
for (var i = 0; i < n; i++) { got[i] = 0; done[i] = !!bar[i] && bar[i].dataset.watched == 'true'; }
try { q = JSON.parse(localStorage.getItem(K)) || []; localStorage.removeItem(K); } catch (e) { q = []; }
function len(i) { var e = v.duration > 0 && v.duration < dur ? v.duration : dur; return Math.max(Math.min((i + 1) * S, e) - i * S, .5); }
function credit(a, b) {
	while (a < b) {
		var i = Math.floor(a / S), e = Math.min(b, (i + 1) * S);
		if (i >= n) return;
		got[i] += e - a; a = e;
		if (!done[i] && got[i] >= len(i) * .9) {
			done[i] = true;
			if (bar[i]) bar[i].dataset.watched = 'true';
			if (pct) pct.textContent = Math.floor(done.filter(Boolean).length * 100 / n) + '%';
			ping('segment', i);
		}
	}
}
// adv credits what played since the last call: forward, not seeking, and no
// further than the clock allows at this speed (else it was a jump).
function adv() {
	var t = v.currentTime, w = performance.now();
	if (v.seeking) { last = null; return; }
	if (last != null && t > last && t - last <= (w - wall) / 1000 * v.playbackRate * 1.5 + .5) credit(last, t);
	last = t; wall = w;
}
function ping(ev, seg) {
	var p = Math.min(v.currentTime, dur);
	q.push({ token: tok, segment: seg == null ? Math.min(Math.floor(p / S), n - 1) : seg, position: Math.round(p * 100) / 100,
		rate: Math.min(v.playbackRate, 4) || 1, session: sid, event: ev });
	clearTimeout(timer); timer = setTimeout(flush, ev == 'segment' ? 1000 : 0);
}
function flush() {
	if (busy || !q.length || navigator.onLine === false) return;
	var b = q.splice(0, 20); busy = 1;
	fetch('/t/pings', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ pings: b }), keepalive: true })
		.then(function (r) { if (r.status == 429 || r.status >= 500) throw r; })
		.then(function () { busy = 0; flush(); }, function () { q = b.concat(q); busy = 0; clearTimeout(timer); timer = setTimeout(flush, 5000); });
}
function leave() {
	while (q.length && navigator.onLine !== false && navigator.sendBeacon('/t/pings', JSON.stringify({ pings: q.slice(0, 50) }))) q = q.slice(50);
	try { if (q.length) localStorage.setItem(K, JSON.stringify(q.slice(-500))); } catch (e) {}
}
v.addEventListener('timeupdate', adv);
v.addEventListener('seeking', function () { last = null; });
v.addEventListener('play', function () { last = v.currentTime; wall = performance.now(); });
v.addEventListener('pause', function () { adv(); last = null; if (!v.ended) ping('pause'); });
v.addEventListener('ended', function () { adv(); last = null; ping('ended', n - 1); });
addEventListener('online', flush);
addEventListener('pagehide', leave);
document.addEventListener('visibilitychange', function () { if (document.visibilityState == 'hidden') leave(); });
function seek() { if (st > 0 && v.currentTime < st) v.currentTime = st; }
if (v.readyState >= 1) seek(); else v.addEventListener('loadedmetadata', seek, { once: true });
flush();
})();
