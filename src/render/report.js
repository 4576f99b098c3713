// sigtrace report: draws the embedded trace on a canvas, only the lanes and marks in view.
// Every text from the traced system goes into the page through textContent, never as markup.
'use strict';
(function () {
  const D = JSON.parse(document.getElementById('trace-data').textContent);
  const P = D.procs, S = D.signals, T = D.texts;
  const NP = P.pid.length, NS = S.t.length;
  const COLORS = Object.fromEntries(D.causes.map((c) => [c.name, c.color]));
  const RUNNING = '#b0b7c0';
  // Marks: default action (it ends the process), default with no effect, caught, ignored.
  const DISP_COLORS = ['#c62828', '#1e63c4', '#8d96a0'];
  const NO_EFFECT = '#a1887f';
  // signal(7): the signals whose default action is to ignore, stop or continue.
  const HARMLESS = new Set([17, 18, 19, 20, 21, 22, 23, 28]);
  function markColor(s) { return S.disp[s] === 0 && HARMLESS.has(S.signo[s]) ? NO_EFFECT : DISP_COLORS[S.disp[s]]; }
  const LANE_H = 18, AXIS_H = 26, LABEL_W = 230, INDENT = 10, MAX_INDENT = 12;
  const MAX_ARROWS = 4000;
  // Arrows: SIGCHLD (child to parent), any other signal.
  const ARROW_COLORS = ['#aab4bf', '#c62828'];

  const el = (id) => document.getElementById(id);
  const scroller = el('scroller'), canvas = el('lanes'), spacer = el('spacer');
  const tooltip = el('tooltip'), ctx = canvas.getContext('2d');

  function causeName(row) { return P.cause[row] >= 0 ? D.causes[P.cause[row]].name : null; }
  function causeColor(row) { const c = causeName(row); return c ? COLORS[c] : RUNNING; }
  function endTime(row) { return P.end[row] >= 0 ? P.end[row] : D.duration_us; }
  function sigName(n) { return D.signames[n] || ('signal ' + n); }
  function procName(row) { return P.pid[row] + ' (' + P.comm[row] + ')'; }
  // The whole command line; P.argv is its short form (cut at an argument, or saying so).
  function command(row) { return P.command[row] >= 0 ? T[P.command[row]] : P.argv[row]; }
  function fmtTime(us) {
    if (Math.abs(us) >= 1e6) return (us / 1e6).toFixed(3) + ' s';
    if (Math.abs(us) >= 1e3) return (us / 1e3).toFixed(3) + ' ms';
    return Math.round(us) + ' µs';
  }

  // Lanes: processes in depth-first order of the process tree, children by start time.
  function laneOrder() {
    const kids = new Array(NP);
    const roots = [];
    for (let r = 0; r < NP; r++) {
      const p = P.parent[r];
      if (p >= 0 && p < NP && p !== r) (kids[p] || (kids[p] = [])).push(r); else roots.push(r);
    }
    const order = new Int32Array(NP), depth = new Int32Array(NP), seen = new Uint8Array(NP);
    let n = 0;
    const visit = (root) => {
      const stack = [[root, 0]];
      while (stack.length) {
        const [r, d] = stack.pop();
        if (seen[r]) continue;
        seen[r] = 1; depth[r] = d; order[n++] = r;
        const k = kids[r];
        if (k) for (let i = k.length - 1; i >= 0; i--) stack.push([k[i], d + 1]);
      }
    };
    roots.forEach(visit);
    for (let r = 0; r < NP; r++) if (!seen[r]) visit(r);
    const laneOf = new Int32Array(NP);
    for (let i = 0; i < NP; i++) laneOf[order[i]] = i;
    return { order, depth, laneOf };
  }
  const L = laneOrder();

  // Each lane's signals, in time order (the signals come sorted by time).
  function laneSignals() {
    const count = new Int32Array(NP + 1);
    for (let i = 0; i < NS; i++) count[S.recv[i] + 1]++;
    for (let r = 0; r < NP; r++) count[r + 1] += count[r];
    const idx = new Int32Array(NS), fill = count.slice(0, NP);
    for (let i = 0; i < NS; i++) idx[fill[S.recv[i]]++] = i;
    return { start: count, idx };
  }
  const LS = laneSignals();

  // First index in [lo, hi) whose time (via get) is >= t.
  function lowerBound(get, lo, hi, t) {
    while (lo < hi) { const m = (lo + hi) >> 1; if (get(m) < t) lo = m + 1; else hi = m; }
    return lo;
  }

  const view = { t0: 0, t1: Math.max(D.duration_us, 1), width: 800, height: 400, dpr: 1, selected: -1, top: 0 };
  const pad = () => Math.max(view.t1 - view.t0, 1) * 0.01;
  function X(t) { return LABEL_W + (t - view.t0) / (view.t1 - view.t0) * (view.width - LABEL_W - 12); }
  function timeAt(x) { return view.t0 + (x - LABEL_W) / (view.width - LABEL_W - 12) * (view.t1 - view.t0); }
  // view.top: the scroll offset, read once a frame (each read of scrollTop asks for layout).
  function laneY(lane) { return AXIS_H + lane * LANE_H - view.top; }

  function resize() {
    view.dpr = window.devicePixelRatio || 1;
    view.width = Math.max(scroller.clientWidth, 400);
    const total = AXIS_H + NP * LANE_H + 4;
    scroller.style.height = Math.min(total, Math.max(180, window.innerHeight * 0.62)) + 'px';
    view.height = scroller.clientHeight;
    canvas.width = view.width * view.dpr; canvas.height = view.height * view.dpr;
    canvas.style.width = view.width + 'px'; canvas.style.height = view.height + 'px';
    spacer.style.height = Math.max(0, total - view.height) + 'px';
    draw();
  }

  function niceStep(span, px) {
    const raw = span / Math.max(px / 110, 1), mag = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return m * mag;
    return 10 * mag;
  }

  // A tick's time with as many decimals as the step needs.
  function tickLabel(us, step) {
    const [unit, div] = step >= 1e6 ? ['s', 1e6] : step >= 1e3 ? ['ms', 1e3] : ['µs', 1];
    const digits = Math.max(0, -Math.floor(Math.log10(step / div) + 1e-9));
    return (us / div).toFixed(Math.min(digits, 6)) + ' ' + unit;
  }

  function drawAxis() {
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, view.width, AXIS_H);
    ctx.strokeStyle = '#d8dce2'; ctx.beginPath(); ctx.moveTo(0, AXIS_H - 0.5); ctx.lineTo(view.width, AXIS_H - 0.5); ctx.stroke();
    const step = niceStep(view.t1 - view.t0, view.width - LABEL_W);
    ctx.fillStyle = '#5f6670'; ctx.font = '11px system-ui, sans-serif'; ctx.textBaseline = 'middle';
    for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
      const x = Math.round(X(t)) + 0.5, label = tickLabel(t, step);
      ctx.fillRect(x, AXIS_H - 6, 1, 6);
      if (x + 3 + ctx.measureText(label).width < view.width) ctx.fillText(label, x + 3, AXIS_H / 2 - 2);
    }
    ctx.fillText('time since the first event', 8, AXIS_H / 2 - 2);
  }

  function drawLabel(lane, row, y) {
    const indent = Math.min(L.depth[row], MAX_INDENT) * INDENT;
    ctx.fillStyle = lane === view.selected ? '#fff3c4' : (lane % 2 ? '#f6f7f9' : '#fff');
    ctx.fillRect(0, y, view.width, LANE_H);
    ctx.fillStyle = causeColor(row); ctx.fillRect(4 + indent, y + 4, 3, LANE_H - 8);
    ctx.fillStyle = '#1d1f23'; ctx.font = '12px ui-monospace, "DejaVu Sans Mono", monospace';
    ctx.save(); ctx.beginPath(); ctx.rect(0, y, LABEL_W - 6, LANE_H); ctx.clip();
    ctx.fillText(procName(row), 11 + indent, y + LANE_H / 2);
    ctx.restore();
  }

  function drawLife(row, y) {
    const x0 = Math.max(X(P.start[row]), LABEL_W - 2), x1 = Math.min(X(endTime(row)), view.width);
    const color = causeColor(row);
    if (x1 >= LABEL_W && x0 <= view.width) {
      ctx.globalAlpha = 0.28; ctx.fillStyle = color;
      ctx.fillRect(x0, y + 5, Math.max(x1 - x0, 1), LANE_H - 10);
      ctx.globalAlpha = 1;
    }
    if (P.end[row] >= 0 && x1 >= LABEL_W - 4 && x1 <= view.width) {
      ctx.fillStyle = color; ctx.fillRect(x1 - 3, y + 2, 6, LANE_H - 4);
    }
  }

  // A lane's signal marks: one per pixel column, taller where several fall together.
  function drawMarks(row, y) {
    const lo = LS.start[row], hi = LS.start[row + 1];
    let i = lowerBound((k) => S.t[LS.idx[k]], lo, hi, view.t0 - pad());
    let lastPx = -1, n = 0, color = '';
    const flush = () => {
      if (lastPx < LABEL_W) return;
      ctx.fillStyle = color;
      const h = n > 1 ? LANE_H - 2 : LANE_H - 6;
      ctx.fillRect(lastPx - 1, y + (LANE_H - h) / 2, n > 1 ? 3 : 2, h);
    };
    for (; i < hi; i++) {
      const s = LS.idx[i], t = S.t[s];
      if (t > view.t1 + pad()) break;
      const px = Math.round(X(t));
      // A column shows its most telling mark: one whose default action ends the process.
      if (px !== lastPx) { flush(); lastPx = px; n = 0; color = markColor(s); }
      n++; if (markColor(s) === DISP_COLORS[0]) color = DISP_COLORS[0];
    }
    flush();
  }

  // Arrows from a traced sender's lane to the receiver's, one per pixel column and lane pair,
  // gathered into one path per colour (a canvas draws one long path far faster than many).
  function drawArrows() {
    let i = lowerBound((k) => S.t[k], 0, NS, view.t0 - pad());
    const seen = new Set(), top = AXIS_H, bottom = view.height;
    const paths = [new Path2D(), new Path2D()], heads = [new Path2D(), new Path2D()];
    let drawn = 0;
    for (; i < NS && drawn < MAX_ARROWS; i++) {
      const t = S.t[i]; if (t > view.t1 + pad()) break;
      const from = S.send[i]; if (from < 0 || from === S.recv[i]) continue;
      const ys = laneY(L.laneOf[from]) + LANE_H / 2, yr = laneY(L.laneOf[S.recv[i]]) + LANE_H / 2;
      if (Math.max(ys, yr) < top || Math.min(ys, yr) > bottom) continue;
      const px = Math.round(X(t)); if (px < LABEL_W) continue;
      const key = (px * 1048576 + L.laneOf[from]) * 1048576 + L.laneOf[S.recv[i]];
      if (seen.has(key)) continue; seen.add(key); drawn++;
      const c = S.signo[i] === 17 ? 0 : 1;
      arrow(paths[c], heads[c], px + 0.5, ys, yr);
    }
    ctx.lineWidth = 1;
    // Opaque: fifty children's SIGCHLDs at one instant stay as light as one (a translucent
    // grey darkens where they overlap, towards the sigkill colour); dashed besides.
    ARROW_COLORS.forEach((color, c) => {
      ctx.strokeStyle = ctx.fillStyle = color;
      ctx.setLineDash(c === 0 ? [3, 2] : []);
      ctx.stroke(paths[c]); ctx.fill(heads[c]);
    });
    ctx.setLineDash([]);
    view.arrows = drawn;
  }

  function arrow(path, head, x, ys, yr) {
    const dir = yr > ys ? 1 : -1, tip = yr - dir * 5;
    path.moveTo(x, ys); path.lineTo(x, tip);
    head.moveTo(x, tip + dir * 4); head.lineTo(x - 3.5, tip - dir * 3); head.lineTo(x + 3.5, tip - dir * 3); head.closePath();
    head.moveTo(x + 2, ys); head.arc(x, ys, 2, 0, 6.3);
  }

  let pending = false;
  function draw() {
    const began = performance.now();
    pending = false;
    view.top = scroller.scrollTop;
    ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
    ctx.clearRect(0, 0, view.width, view.height);
    ctx.textBaseline = 'middle';
    const first = Math.max(0, Math.floor(view.top / LANE_H));
    const last = Math.min(NP - 1, Math.ceil((view.top + view.height - AXIS_H) / LANE_H));
    for (let lane = first; lane <= last; lane++) {
      const row = L.order[lane], y = laneY(lane);
      drawLabel(lane, row, y); drawLife(row, y); drawMarks(row, y);
    }
    drawArrows();
    ctx.fillStyle = '#d8dce2'; ctx.fillRect(LABEL_W - 4, AXIS_H, 1, view.height);
    drawAxis();
    document.body.dataset.drawnLanes = String(Math.max(0, last - first + 1));
    el('range').textContent = fmtTime(view.t0) + ' – ' + fmtTime(view.t1);
    document.body.dataset.view = Math.round(view.t0) + ',' + Math.round(view.t1);
    document.body.dataset.drawMs = (performance.now() - began).toFixed(1);
  }
  function redraw() { if (!pending) { pending = true; requestAnimationFrame(draw); } }

  // What is under the pointer: a signal mark, a process's end, or its lane.
  function hit(x, y) {
    if (y < AXIS_H) return null;
    const lane = Math.floor((y - AXIS_H + scroller.scrollTop) / LANE_H);
    if (lane < 0 || lane >= NP) return null;
    const row = L.order[lane];
    if (x < LABEL_W) return { kind: 'proc', row, lane };
    if (P.end[row] >= 0 && Math.abs(X(P.end[row]) - x) <= 4) return { kind: 'end', row, lane };
    const lo = LS.start[row], hi = LS.start[row + 1], t = timeAt(x);
    const i = lowerBound((k) => S.t[LS.idx[k]], lo, hi, t);
    let best = -1, dist = 5;
    for (const k of [i - 1, i]) {
      if (k < lo || k >= hi) continue;
      const d = Math.abs(X(S.t[LS.idx[k]]) - x);
      if (d < dist) { dist = d; best = LS.idx[k]; }
    }
    if (best >= 0) return { kind: 'signal', row, lane, sig: best, count: marksNear(row, x) };
    const inLife = t >= P.start[row] && t <= endTime(row);
    return inLife ? { kind: 'proc', row, lane } : null;
  }

  function marksNear(row, x) {
    const lo = LS.start[row], hi = LS.start[row + 1];
    const a = lowerBound((k) => S.t[LS.idx[k]], lo, hi, timeAt(x - 1.5));
    const b = lowerBound((k) => S.t[LS.idx[k]], lo, hi, timeAt(x + 1.5));
    return b - a;
  }

  function procText(row) {
    const lines = [procName(row) + (command(row) ? '  ' + command(row) : '')];
    lines.push('parent ' + P.ppid[row] + (P.parent[row] >= 0 ? ' (traced)' : ''));
    lines.push('started ' + fmtTime(P.start[row]) + (P.end[row] >= 0 ? ', ended ' + fmtTime(P.end[row]) : ', still running at the end of the trace'));
    if (P.end[row] >= 0) lines.push(P.outcome[row] + ' — cause: ' + causeName(row), 'verdict: ' + P.verdict[row]);
    return lines.join('\n');
  }

  function signalText(h) {
    const s = h.sig, lines = [T[S.line[s]]];
    lines.push(fmtTime(S.t[s]) + '  to ' + procName(h.row) + ', ' + D.dispositions[S.disp[s]]);
    if (T[S.from[s]]) lines.push(T[S.from[s]]);
    if (h.count > 1) lines.push('(' + h.count + ' signals at this spot; zoom in to separate them)');
    if (P.end[h.row] >= 0) lines.push('', 'verdict for ' + procName(h.row) + ': ' + P.verdict[h.row]);
    return lines.join('\n');
  }

  function describe(h) { return h.kind === 'signal' ? signalText(h) : procText(h.row); }

  function pointer(e) {
    const r = canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  function showTooltip(e) {
    const p = pointer(e), h = hit(p.x, p.y);
    canvas.style.cursor = h && h.kind !== 'proc' ? 'pointer' : 'crosshair';
    if (!h) { tooltip.hidden = true; return; }
    tooltip.textContent = describe(h);
    tooltip.hidden = false;
    const w = tooltip.offsetWidth, hgt = tooltip.offsetHeight;
    tooltip.style.left = Math.min(e.clientX + 14, window.innerWidth - w - 8) + 'px';
    tooltip.style.top = (e.clientY + 16 + hgt > window.innerHeight ? e.clientY - hgt - 10 : e.clientY + 16) + 'px';
  }

  function select(h) {
    if (!h) return;
    view.selected = h.lane;
    el('detail-text').textContent = describe(h);
    redraw();
  }

  function zoom(factor, atX) {
    const t = timeAt(atX === undefined ? (LABEL_W + view.width) / 2 : atX);
    const span = Math.min(Math.max((view.t1 - view.t0) * factor, 1), Math.max(D.duration_us, 1) * 1.2);
    const f = (t - view.t0) / (view.t1 - view.t0);
    view.t0 = t - f * span; view.t1 = view.t0 + span;
    redraw();
  }

  function pan(dx) {
    const dt = dx / (view.width - LABEL_W - 12) * (view.t1 - view.t0);
    view.t0 += dt; view.t1 += dt; redraw();
  }

  function wire() {
    let drag = null;
    scroller.addEventListener('scroll', redraw, { passive: true });
    window.addEventListener('resize', resize);
    canvas.addEventListener('mousemove', (e) => { if (drag) { pan(drag.x - e.clientX); drag.x = e.clientX; drag.moved = true; } else showTooltip(e); });
    canvas.addEventListener('mouseleave', () => { tooltip.hidden = true; });
    canvas.addEventListener('mousedown', (e) => { drag = { x: e.clientX, moved: false }; });
    window.addEventListener('mouseup', (e) => {
      if (drag && !drag.moved && e.target === canvas) { const p = pointer(e); select(hit(p.x, p.y)); }
      drag = null;
    });
    canvas.addEventListener('wheel', (e) => {
      if (e.ctrlKey || e.metaKey) { e.preventDefault(); zoom(e.deltaY > 0 ? 1.25 : 0.8, pointer(e).x); }
      else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) { e.preventDefault(); pan(e.deltaX || e.deltaY); }
    }, { passive: false });
    el('zoom-in').addEventListener('click', () => zoom(0.5));
    el('zoom-out').addEventListener('click', () => zoom(2));
    el('find').addEventListener('keydown', (e) => { if (e.key === 'Enter') find(e.target.value); });
    el('zoom-fit').addEventListener('click', () => { view.t0 = 0; view.t1 = Math.max(D.duration_us, 1); redraw(); });
  }

  function header() {
    const main = NP ? L.order[0] : -1;
    el('command').textContent = main >= 0 ? (P.argv[main] || P.comm[main]) : '';
    if (main >= 0) el('command').title = command(main) || P.comm[main];
    const started = new Date(D.start * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    let meta = started + ' · ' + fmtTime(D.duration_us) + ' · ' + NP + ' processes · ' + NS + ' signals';
    if (D.dropped_signals) meta += ' (and ' + D.dropped_signals + ' more not kept)';
    if (D.dropped_procs) meta += ' · ' + D.dropped_procs + ' more processes not kept';
    if (main >= 0 && P.end[main] >= 0) meta += ' · ' + procName(main) + ' ' + P.verdict[main];
    el('meta').textContent = meta;
  }

  function key(color, text, mark, title) {
    const k = document.createElement('span'), s = document.createElement('span');
    k.className = 'key'; s.className = mark ? 'swatch mark' : 'swatch'; s.style.background = color;
    k.append(s, document.createTextNode(text));
    if (title) k.title = title;
    return k;
  }

  function legend() {
    const counts = {};
    for (let r = 0; r < NP; r++) { const c = causeName(r) || 'running'; counts[c] = (counts[c] || 0) + 1; }
    const box = el('legend');
    for (const c of D.causes) box.append(key(c.color, c.name + (counts[c.name] ? ' (' + counts[c.name] + ')' : ''), false, c.meaning));
    box.append(key(RUNNING, 'still running' + (counts.running ? ' (' + counts.running + ')' : '')));
    box.append(key(DISP_COLORS[0], 'signal, default action', true));
    box.append(key(NO_EFFECT, 'signal, default: no effect', true));
    box.append(key(DISP_COLORS[1], 'signal, caught', true));
    box.append(key(DISP_COLORS[2], 'signal, ignored', true));
    box.append(key(ARROW_COLORS[1], 'arrow: traced sender → receiver', true));
    box.append(key(ARROW_COLORS[0], 'dashed arrow: SIGCHLD, child → parent', true));
  }

  const TABLE_MAX = 5000;
  function cell(tr, text, cls) {
    const td = document.createElement('td'); td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td); return td;
  }

  function row(lane) {
    const r = L.order[lane], tr = document.createElement('tr');
    tr.dataset.pid = P.pid[r]; tr.dataset.lane = lane;
    cell(tr, P.pid[r]); cell(tr, P.ppid[r]);
    cell(tr, P.argv[r] || P.comm[r], 'mono').title = command(r) || P.comm[r];
    cell(tr, fmtTime(P.start[r]));
    cell(tr, P.end[r] >= 0 ? P.outcome[r] : 'still running');
    const c = cell(tr, ''), chip = document.createElement('span');
    chip.className = 'chip'; chip.style.background = causeColor(r); chip.textContent = causeName(r) || 'running';
    c.append(chip);
    cell(tr, P.by[r] ? String(P.by[r]) : '-');
    cell(tr, P.end[r] >= 0 ? P.verdict[r] : '');
    return tr;
  }

  function table() {
    const body = el('table').tBodies[0], n = Math.min(NP, TABLE_MAX), frag = document.createDocumentFragment();
    for (let lane = 0; lane < n; lane++) frag.append(row(lane));
    body.append(frag);
    el('table-note').textContent = NP > n ? 'The first ' + n + ' of ' + NP + ' processes, in lane order.' : 'One row per process, in lane order; click a row to find its lane.';
    body.addEventListener('click', (e) => {
      const tr = e.target.closest('tr'); if (!tr) return;
      const lane = Number(tr.dataset.lane);
      scroller.scrollTop = Math.max(0, lane * LANE_H - view.height / 3);
      select({ kind: 'proc', row: L.order[lane], lane });
      scroller.scrollIntoView({ block: 'nearest' });
    });
  }

  function show(row) {
    const lane = L.laneOf[row];
    scroller.scrollTop = Math.max(0, lane * LANE_H - view.height / 3);
    select({ kind: P.end[row] >= 0 ? 'end' : 'proc', row, lane });
  }

  // `report.html#pid=1234` opens with that process selected and in view.
  function fromHash() {
    const m = /^#pid=(\d+)$/.exec(location.hash);
    if (!m) return;
    for (let r = NP - 1; r >= 0; r--) if (P.pid[r] === Number(m[1])) return show(r);
  }

  // The find box: the next lane (after the selected one) whose pid, name or command matches.
  function find(text) {
    const q = text.trim().toLowerCase();
    if (!q) return;
    const matches = (r) => String(P.pid[r]) === q || P.comm[r].toLowerCase().includes(q) || command(r).toLowerCase().includes(q);
    for (let k = 1; k <= NP; k++) {
      const lane = (Math.max(view.selected, -1) + k) % NP;
      if (matches(L.order[lane])) return show(L.order[lane]);
    }
    el('detail-text').textContent = 'No process matches ' + JSON.stringify(text) + '.';
  }

  // Where something happens: signals, ends, and starts after the first. When all of it falls
  // in a sliver of the run (a program that waits, then everything happens in its last
  // milliseconds), the page opens zoomed to it; Fit shows the whole run.
  function opening() {
    let lo = Infinity, hi = -Infinity;
    const at = (t) => { if (t < lo) lo = t; if (t > hi) hi = t; };
    for (let i = 0; i < NS; i++) at(S.t[i]);
    for (let r = 0; r < NP; r++) { if (P.end[r] >= 0) at(P.end[r]); if (r !== L.order[0]) at(P.start[r]); }
    const whole = Math.max(D.duration_us, 1);
    if (!(hi >= lo) || hi - lo > whole * 0.03) return;
    const margin = Math.max((hi - lo) * 0.5, 50, whole * 0.001);
    view.t0 = Math.max(0, lo - margin); view.t1 = Math.min(whole * 1.2, hi + margin);
  }

  header(); legend(); opening(); wire(); resize(); table(); fromHash();
  window.addEventListener('hashchange', fromHash);
  el('timeline').dataset.lanes = String(NP);
  el('timeline').dataset.signals = String(NS);
  document.body.dataset.renderMs = performance.now().toFixed(1);
})();
