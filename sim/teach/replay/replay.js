/* The replay page's player: applies the run's frames up to the scrubbed time and draws
 * the hosts, the network and the timeline on canvases. Everything the page shows from
 * the run's data is drawn as canvas text or set as DOM text (never parsed as HTML). */
(function () {
  "use strict";

  const D = JSON.parse(document.getElementById("replay-data").textContent);
  const $ = (id) => document.getElementById(id);

  // -- words and colours ------------------------------------------------------------

  const STATE = {};
  D.states.forEach((name, index) => { STATE[name] = index; });
  const CATEGORIES = [
    // [name, colour, states]
    ["waiting", "#9aa5b1", ["requested", "pending"]],
    ["starting", "#60a5fa", ["scheduled", "provisioning", "booting", "creating", "starting"]],
    ["pulling", "#f59e0b", ["pulling"]],
    ["extracting", "#ea580c", ["extracting"]],
    ["initialising", "#a78bfa", ["initializing"]],
    ["running", "#4ade80", ["ready"]],
    ["in service", "#15803d", ["in_service"]],
    ["draining", "#84a98c", ["draining"]],
    ["back-off", "#b91c1c", ["crash_loop_backoff", "pull_backoff"]],
    ["failed", "#7f1d1d", ["failed", "lost"]],
    ["evicted", "#7e22ce", ["evicted"]],
    ["gone", "#e4e7eb", ["removed", "stopped", "terminated"]],
  ];
  const CATEGORY_OF = new Int8Array(D.states.length);
  CATEGORIES.forEach(([, , states], category) => {
    states.forEach((state) => { CATEGORY_OF[STATE[state]] = category; });
  });
  const GONE = CATEGORIES.length - 1;
  const ENDED = new Set([CATEGORIES.findIndex((c) => c[0] === "failed"),
    CATEGORIES.findIndex((c) => c[0] === "evicted")]);
  const RUNNING_STATES = new Set(["initializing", "ready", "in_service", "draining"]
    .map((name) => STATE[name]));
  const BASE_COLOURS = ["#2563eb", "#0d9488", "#d97706", "#db2777", "#7c3aed", "#65a30d",
    "#0891b2", "#dc2626", "#4b5563", "#c026d3"];
  const LAYER_WORDS = ["", "Pulling fs layer", "Downloading", "Download complete",
    "Extracting", "Pull complete", "Already exists"];
  const HOST_WORDS = D.host_statuses;
  const KIND_COLOURS = { scale: "#7c3aed", cluster: "#0891b2", fault: "#dc2626",
    recovery: "#16a34a" };

  // -- the run's tables --------------------------------------------------------------

  const H = D.hosts.length;
  const R = D.replicas.length;
  const hostIndex = new Map(D.hosts.map((host, index) => [host[0], index]));
  const replicaKind = D.replicas.map((replica) => replica[3]);
  const isVm = replicaKind.map((kind) => kind === "vm");
  const layerSize = D.layers.map((layer) => layer[1]);
  const layerBase = D.layers.map((layer) => layer[3]);
  const catalogBytes = Math.max(1, layerSize.reduce((a, b) => a + b, 0));
  const baseColour = (base) => BASE_COLOURS[base % BASE_COLOURS.length];
  const downloadsByHost = Array.from({ length: H }, () => []);
  D.downloads.forEach((download) => {
    if (download[0] >= 0) downloadsByHost[download[0]].push(download);
  });

  // -- the state at the scrubbed time --------------------------------------------------

  const S = {
    frame: -1,
    replicaState: new Int16Array(R),
    replicaHost: new Int32Array(R),
    replicaSince: new Float64Array(R),
    hostStatus: new Int8Array(H),
    usage: new Float64Array(H * 3),
    layers: [],
    images: [],
    desired: new Float64Array(D.fleets.length),
    counts: new Int32Array(CATEGORIES.length),
    hostsUp: 0,
  };

  function reset() {
    S.frame = -1;
    S.replicaState.fill(STATE.requested);
    S.replicaHost.fill(-1);
    S.replicaSince.fill(0);
    S.usage.fill(0);
    S.desired.fill(0);
    S.counts.fill(0);
    S.counts[CATEGORY_OF[STATE.requested]] = 0;
    S.layers = Array.from({ length: H }, () => new Map());
    S.images = Array.from({ length: H }, () => new Set());
    S.hostsUp = 0;
    D.hosts.forEach((host, index) => {
      S.hostStatus[index] = host[7];
      if (host[7] === 2) S.hostsUp += 1;
    });
    S.seen = new Uint8Array(R);
  }

  function setReplica(replica, state, host, time) {
    if (S.seen[replica]) S.counts[CATEGORY_OF[S.replicaState[replica]]] -= 1;
    S.seen[replica] = 1;
    S.replicaState[replica] = state;
    S.replicaHost[replica] = host;
    S.replicaSince[replica] = time;
    S.counts[CATEGORY_OF[state]] += 1;
  }

  function apply(index) {
    const changes = D.changes[index];
    const time = D.times[index];
    let i = 0;
    while (i < changes.length) {
      const op = changes[i];
      if (op === 0) {
        setReplica(changes[i + 1], changes[i + 2], changes[i + 3], time);
        i += 4;
      } else if (op === 1) {
        const layers = S.layers[changes[i + 1]];
        if (changes[i + 3] === 0) layers.delete(changes[i + 2]);
        else layers.set(changes[i + 2], changes[i + 3]);
        i += 4;
      } else if (op === 2) {
        const host = changes[i + 1];
        if (S.hostStatus[host] === 2) S.hostsUp -= 1;
        S.hostStatus[host] = changes[i + 2];
        if (changes[i + 2] === 2) S.hostsUp += 1;
        i += 3;
      } else if (op === 3) {
        const host = changes[i + 1];
        S.usage[host * 3] = changes[i + 2];
        S.usage[host * 3 + 1] = changes[i + 3];
        S.usage[host * 3 + 2] = changes[i + 4];
        i += 5;
      } else if (op === 4) {
        if (changes[i + 3]) S.images[changes[i + 1]].add(changes[i + 2]);
        else S.images[changes[i + 1]].delete(changes[i + 2]);
        i += 4;
      } else if (op === 5) {
        S.desired[changes[i + 1]] = changes[i + 2];
        i += 3;
      } else {
        throw new Error("unknown change " + op);
      }
    }
    S.frame = index;
  }

  /** The last frame at or before `time` (-1: none). */
  function frameAt(time) {
    let low = 0;
    let high = D.times.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (D.times[middle] <= time) { found = middle; low = middle + 1; } else high = middle - 1;
    }
    return found;
  }

  function reach(frame) {
    if (frame < S.frame) reset();
    for (let index = S.frame + 1; index <= frame; index += 1) apply(index);
  }

  // Per-frame totals for the timeline: replicas by category, hosts up, desired.
  const F = D.times.length;
  const perFrame = {
    counts: CATEGORIES.map(() => new Float32Array(F)),
    hosts: new Float32Array(F),
    desired: new Float32Array(F),
  };
  reset();
  const hostsAtStart = S.hostsUp;
  for (let index = 0; index < F; index += 1) {
    apply(index);
    CATEGORIES.forEach((_, category) => { perFrame.counts[category][index] = S.counts[category]; });
    perFrame.hosts[index] = S.hostsUp;
    perFrame.desired[index] = S.desired.reduce((sum, value) => sum + value, 0);
  }
  reset();

  // -- formatting ------------------------------------------------------------------------

  function three(value) {
    if (value >= 100) return value.toFixed(0);
    if (value >= 10) return value.toFixed(1).replace(/\.0$/, "");
    return value.toFixed(2).replace(/\.?0+$/, "");
  }
  function size(bytes) {
    const units = ["B", "kB", "MB", "GB", "TB"];
    let value = bytes;
    let unit = 0;
    while (Math.abs(value) >= 999.5 && unit < units.length - 1) { value /= 1000; unit += 1; }
    return `${three(value)} ${units[unit]}`;
  }
  function rate(bytesPerS) { return `${size(bytesPerS)}/s`; }
  function duration(seconds) {
    if (seconds < 60) return `${three(seconds)} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
    return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  }
  function clock(seconds) {
    if (D.end_s < 600) return `${seconds.toFixed(3)} s`;
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = Math.floor(seconds % 60);
    return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
  }
  function shortName(name, width, ctx) {
    if (ctx.measureText(name).width <= width) return name;
    let text = name;
    while (text.length > 1 && ctx.measureText(text + "…").width > width) text = text.slice(0, -1);
    return text + "…";
  }

  // -- the page's time and playback -----------------------------------------------------

  const P = {
    time: 0,
    playing: false,
    speed: 0,
    last: 0,
    view: [0, Math.max(D.end_s, 1e-3)],
    selected: null,
    dwell: Math.min(0.6, Math.max(0.06, 40 / Math.max(F, 1))),
  };
  const SPEEDS = [0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1000, 3600];
  const speedSelect = $("speed");
  SPEEDS.forEach((speed) => {
    const option = document.createElement("option");
    option.value = String(speed);
    option.textContent = speed === 0 ? "auto (change by change)" : `${speed}× (${speed} s per s)`;
    speedSelect.appendChild(option);
  });
  speedSelect.value = F > 1500 ? String(nearestSpeed(D.end_s / 60)) : "0";
  P.speed = Number(speedSelect.value);

  function nearestSpeed(wanted) {
    return SPEEDS.slice(1).reduce((best, speed) =>
      (Math.abs(Math.log(speed / wanted)) < Math.abs(Math.log(best / wanted)) ? speed : best), 1);
  }

  function seek(time) {
    P.time = Math.min(Math.max(time, 0), D.end_s);
    reach(frameAt(P.time));
    draw();
  }

  function step(direction) {
    pause();
    if (direction > 0) {
      const next = frameAt(P.time) + 1;
      seek(next < F ? D.times[next] : D.end_s);
    } else {
      let frame = frameAt(P.time);
      if (frame >= 0 && D.times[frame] >= P.time) frame -= 1;
      if (frame >= 0 && D.times[frame] === P.time) frame -= 1;
      seek(frame >= 0 ? D.times[frame] : 0);
    }
  }

  function play() {
    if (P.time >= D.end_s) seek(0);
    P.playing = true;
    P.last = performance.now();
    P.held = 0;
    $("play").textContent = "❚❚ Pause";
    requestAnimationFrame(tick);
  }
  function pause() {
    P.playing = false;
    $("play").textContent = "▶ Play";
  }

  function tick(now) {
    if (!P.playing) return;
    const elapsed = Math.min((now - P.last) / 1000, 0.25);
    P.last = now;
    let time = P.time;
    const next = frameAt(time) + 1;
    const nextTime = next < F ? D.times[next] : D.end_s;
    if (P.speed === 0) {
      // Auto: change by change, each shown for a moment, time flowing between them.
      const gap = Math.max(nextTime - time, 0);
      const perSecond = Math.max(gap / P.dwell, D.end_s / 3600);
      time = Math.min(time + perSecond * elapsed, nextTime);
    } else {
      time += P.speed * elapsed;
      if ($("skip").checked && nextTime - time > P.speed * 2 && next < F) {
        time = nextTime - P.speed * 0.5;
      }
    }
    seek(time);
    if (P.time >= D.end_s) { pause(); draw(); return; }
    requestAnimationFrame(tick);
  }

  // -- canvases -------------------------------------------------------------------------

  function prepare(canvas) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.textBaseline = "middle";
    return { ctx, width, height };
  }

  function bar(ctx, x, y, width, height, parts, total) {
    ctx.fillStyle = "#eef2f6";
    ctx.fillRect(x, y, width, height);
    let at = x;
    parts.forEach(([amount, colour]) => {
      const w = total > 0 ? Math.max(0, (amount / total) * width) : 0;
      ctx.fillStyle = colour;
      ctx.fillRect(at, y, w, height);
      at += w;
    });
    ctx.strokeStyle = "#9aa5b1";
    ctx.lineWidth = 1;
    ctx.strokeRect(x + 0.5, y + 0.5, width - 1, height - 1);
  }

  function haloText(ctx, text, x, y) {
    ctx.strokeStyle = "rgba(255, 255, 255, 0.9)";
    ctx.lineWidth = 3;
    ctx.lineJoin = "round";
    ctx.strokeText(text, x, y);
    ctx.fillStyle = "#1f2933";
    ctx.fillText(text, x, y);
  }

  // Where each host and replica was drawn, for clicks.
  let hostBoxes = [];
  let replicaBoxes = [];

  // The replicas on each host, found once per picture.
  let onHost = [];
  function indexReplicas() {
    onHost = Array.from({ length: H }, () => []);
    for (let replica = 0; replica < R; replica += 1) {
      if (S.replicaHost[replica] >= 0) onHost[S.replicaHost[replica]].push(replica);
    }
  }

  function replicasOn(host) {
    const found = [];
    for (const replica of onHost[host]) {
      const category = CATEGORY_OF[S.replicaState[replica]];
      if (category === GONE || !S.seen[replica]) continue;
      if (ENDED.has(category) && S.hostStatus[host] !== 3
        && P.time - S.replicaSince[replica] > Math.max(5, D.end_s / 40)) continue;
      found.push(replica);
    }
    return found;
  }

  function diskParts(host) {
    const parts = [];
    S.layers[host].forEach((status, layer) => {
      if (status >= 5) parts.push([layerSize[layer], baseColour(layerBase[layer])]);
    });
    parts.push([S.usage[host * 3 + 2], "#334155"]);
    return parts;
  }

  function layersBytes(host) {
    let total = 0;
    S.layers[host].forEach((status, layer) => { if (status >= 5) total += layerSize[layer]; });
    return total;
  }

  function downloadProgress(host, layer) {
    const download = downloadsByHost[host].find((d) => d[2] === layer && d[3] <= P.time
      && P.time < d[4]);
    if (!download) return null;
    return Math.min(1, (P.time - download[3]) / Math.max(download[4] - download[3], 1e-9));
  }

  function drawChip(ctx, replica, x, y, width, height, label, strip) {
    const category = CATEGORY_OF[S.replicaState[replica]];
    ctx.fillStyle = CATEGORIES[category][1];
    ctx.strokeStyle = "#1f2933";
    ctx.lineWidth = 1;
    if (isVm[replica]) {
      ctx.fillRect(x, y, width, height);
      ctx.lineWidth = 2;
      ctx.strokeRect(x + 1, y + 1, width - 2, height - 2);
    } else {
      ctx.beginPath();
      ctx.roundRect(x, y, width, height, Math.min(height / 2, 8));
      ctx.fill();
      ctx.stroke();
    }
    if (ENDED.has(category)) {
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x + 3, y + 3); ctx.lineTo(x + width - 3, y + height - 3);
      ctx.moveTo(x + width - 3, y + 3); ctx.lineTo(x + 3, y + height - 3);
      ctx.stroke();
    }
    if (label && width > 24) {
      ctx.fillStyle = [6, 8, 9, 10].includes(category) ? "#ffffff" : "#111827";
      ctx.font = "11px sans-serif";
      ctx.fillText(shortName(label, width - 8, ctx), x + 4, y + height / 2);
    }
    if (strip) {
      // What the replica keeps on the host's disk: a container's thin writable layer,
      // a VM's own disk.
      ctx.lineWidth = 1;
      if (isVm[replica]) {
        ctx.fillStyle = "#334155";
        ctx.fillRect(x, y + height + 2, width, 6);
      } else {
        ctx.fillStyle = "#ffffff";
        ctx.fillRect(x + 6, y + height + 2, width - 12, 4);
        ctx.strokeStyle = "#64748b";
        ctx.setLineDash([3, 2]);
        ctx.strokeRect(x + 6.5, y + height + 2.5, width - 13, 3);
        ctx.setLineDash([]);
      }
    }
    replicaBoxes.push([x, y, width, height, replica]);
  }

  function replicaLabel(replica) {
    const [name, , platform] = D.replicas[replica];
    const kind = replicaKind[replica] === "vm" ? (platform.includes("micro") ? "µVM " : "VM ") : "";
    return `${kind}${name} · ${D.states[S.replicaState[replica]].replace(/_/g, " ")}`;
  }

  function drawHostCard(ctx, host, x, y, width, height, detailed) {
    const [name, vcpu, memory, disk, type] = D.hosts[host];
    const status = S.hostStatus[host];
    const chosen = P.selected && P.selected[0] === "host" && P.selected[1] === host;
    hostBoxes.push([x, y, width, height, host]);
    ctx.fillStyle = status === 3 ? "#fee2e2" : status === 0 || status === 5 ? "#f8fafc"
      : status === 1 ? "#eff6ff" : status === 4 ? "#fef9c3" : "#ffffff";
    ctx.fillRect(x, y, width, height);
    ctx.strokeStyle = chosen ? "#2563eb" : "#9aa5b1";
    ctx.lineWidth = chosen ? 3 : 1;
    ctx.strokeRect(x + 0.5, y + 0.5, width - 1, height - 1);
    ctx.fillStyle = "#1f2933";
    ctx.font = "bold 13px sans-serif";
    ctx.fillText(shortName(name, width - 130, ctx), x + 8, y + 12);
    ctx.font = "11px sans-serif";
    ctx.fillStyle = status === 3 ? "#b91c1c" : "#616e7c";
    ctx.textAlign = "right";
    ctx.fillText(shortName(`${type ? type + " · " : ""}${HOST_WORDS[status]}`, 120, ctx), x + width - 8, y + 12);
    ctx.textAlign = "left";
    if (status === 0) return;
    const barX = x + 44;
    // A detailed card writes each bar's numbers after it.
    const textW = detailed ? Math.min(330, Math.max(0, width - 260)) : 0;
    const barW = width - 52 - textW;
    const barH = detailed ? 12 : Math.max(4, Math.min(10, (height - 30) / 6));
    let row = y + 24;
    const diskUsed = layersBytes(host) + S.usage[host * 3 + 2];
    const bars = [
      ["CPU", [[S.usage[host * 3], "#60a5fa"]], vcpu, `${three(S.usage[host * 3])} of ${vcpu} vCPU requested`],
      ["Mem", [[S.usage[host * 3 + 1], "#60a5fa"]], memory, `${size(S.usage[host * 3 + 1])} of ${size(memory)} requested`],
      ["Disk", diskParts(host), disk, `${size(diskUsed)} of ${size(disk)}: layers ${size(layersBytes(host))}, others ${size(S.usage[host * 3 + 2])}`],
    ];
    ctx.font = `${Math.min(11, barH + 2)}px sans-serif`;
    bars.forEach(([label, parts, total, text]) => {
      ctx.fillStyle = "#1f2933";
      ctx.fillText(label, x + 8, row + barH / 2);
      bar(ctx, barX, row, barW, barH, parts, total);
      if (textW) {
        ctx.fillStyle = "#1f2933";
        ctx.fillText(shortName(text, textW - 8, ctx), barX + barW + 8, row + barH / 2);
      }
      row += barH + 4;
    });
    const replicas = replicasOn(host);
    if (detailed) {
      row += 6;
      ctx.fillStyle = "#616e7c";
      ctx.font = "11px sans-serif";
      ctx.fillText(replicas.length ? "Containers (each a thin writable layer over the image's read-only layers) and VMs (each its own disk)" : "No container or VM", x + 8, row + 5);
      row += 12;
      const chipW = Math.min(230, (width - 16 - 6 * 2) / 3);
      let cx = x + 8;
      replicas.forEach((replica) => {
        if (cx + chipW > x + width - 6) { cx = x + 8; row += 34; }
        drawChip(ctx, replica, cx, row, chipW, 22, replicaLabel(replica), true);
        cx += chipW + 6;
      });
      row += replicas.length ? 38 : 4;
      drawLayerStack(ctx, host, x + 8, row, width - 16, y + height - row - 6);
      return;
    }
    if (height - (row - y) > 40 && width > 150) {
      row = drawLayerStrip(ctx, host, x + 8, row + 2, width - 16);
    }
    const room = y + height - row - 4;
    const perRow = Math.max(1, Math.min(replicas.length, Math.floor((width - 16) / 130)));
    const rows = Math.ceil(replicas.length / perRow);
    const chipH = Math.max(5, Math.min(20, room / Math.max(rows, 1) - 3));
    const chipW = replicas.length <= perRow * Math.floor(room / (chipH + 3))
      ? (width - 16) / perRow : Math.max(6, (width - 16) / Math.max(1, Math.ceil(replicas.length / Math.max(1, Math.floor(room / 9)))));
    let cx = x + 8;
    replicas.forEach((replica) => {
      if (cx + chipW > x + width - 6) { cx = x + 8; row += chipH + 3; }
      if (row + chipH > y + height - 2) return;
      drawChip(ctx, replica, cx, row, chipW - 4, chipH, chipW > 50 && chipH >= 12 ? replicaLabel(replica) : "", false);
      cx += chipW;
    });
  }

  /** The host's layers as one row of blocks, each as wide as its size allows. */
  function drawLayerStrip(ctx, host, x, y, width) {
    const layers = [...S.layers[host].entries()].sort((a, b) => a[0] - b[0]);
    if (!layers.length) return y;
    const weights = layers.map(([layer]) => Math.sqrt(layerSize[layer]) + 1);
    const total = weights.reduce((a, b) => a + b, 0);
    const gaps = 2 * layers.length;
    let at = x;
    layers.forEach(([layer, status], index) => {
      const w = Math.max(2, ((width - gaps) * weights[index]) / total);
      ctx.globalAlpha = status >= 5 ? 1 : 0.3;
      ctx.fillStyle = baseColour(layerBase[layer]);
      ctx.fillRect(at, y, w, 12);
      ctx.globalAlpha = 1;
      if (status === 4 || status === 6) {
        ctx.strokeStyle = status === 4 ? "#ea580c" : "#06b6d4";
        ctx.lineWidth = 2;
        ctx.strokeRect(at + 1, y + 1, w - 2, 10);
      }
      at += w + 2;
    });
    return y + 17;
  }

  function drawLayerStack(ctx, host, x, y, width, room) {
    const order = [];
    [...S.images[host]].forEach((image) => D.images[image][3].forEach((layer) => order.push(layer)));
    S.layers[host].forEach((status, layer) => order.push(layer));
    const present = [...new Set(order)].filter((layer) => S.layers[host].has(layer));
    const stored = present.filter((layer) => S.layers[host].get(layer) >= 5).length;
    ctx.fillStyle = "#616e7c";
    ctx.font = "11px sans-serif";
    ctx.fillText(`Layer store: ${stored} read-only layers, each stored once however many images and containers use it`, x, y + 5);
    y += 12;
    if (!present.length) return;
    const rowH = Math.max(9, Math.min(20, room / present.length));
    const shown = present.slice(0, Math.max(1, Math.floor(room / rowH)));
    const largest = Math.max(...shown.map((layer) => layerSize[layer]), 1);
    const label = 150;
    const room2 = Math.max(40, width - label - 210);
    // Bottom layer at the bottom, as an image's stack is drawn.
    shown.slice().reverse().forEach((layer, index) => {
      const status = S.layers[host].get(layer);
      const top = y + index * rowH;
      const colour = baseColour(layerBase[layer]);
      const full = Math.max(3, room2 * Math.sqrt(layerSize[layer] / largest));
      const fontSize = Math.min(11, rowH - 2);
      ctx.font = `${fontSize}px monospace`;
      ctx.fillStyle = "#1f2933";
      ctx.fillText(`${D.layers[layer][0]} ${size(layerSize[layer])}`, x, top + rowH / 2);
      const bandX = x + label;
      ctx.globalAlpha = status >= 5 ? 1 : 0.25;
      ctx.fillStyle = colour;
      ctx.fillRect(bandX, top + 1, full, rowH - 2);
      ctx.globalAlpha = 1;
      let words = LAYER_WORDS[status];
      if (status === 2) {
        const progress = downloadProgress(host, layer) || 0;
        ctx.fillStyle = colour;
        ctx.globalAlpha = 0.7;
        ctx.fillRect(bandX, top + 1, full * progress, rowH - 2);
        ctx.globalAlpha = 1;
        words += ` ${Math.round(100 * progress)} %`;
      } else if (status === 4) {
        ctx.setLineDash([4, 3]);
        ctx.strokeStyle = "#ea580c";
        ctx.lineWidth = 2;
        ctx.strokeRect(bandX + 1, top + 2, full - 2, rowH - 4);
        ctx.setLineDash([]);
      } else if (status === 6) {
        ctx.strokeStyle = "#06b6d4";
        ctx.lineWidth = 3;
        ctx.strokeRect(bandX + 1.5, top + 2, full - 3, rowH - 4);
      }
      ctx.fillStyle = "#1f2933";
      ctx.font = `${fontSize}px sans-serif`;
      ctx.fillText(`${shortName(D.bases[layerBase[layer]], 90, ctx)} · ${words}`, bandX + full + 6, top + rowH / 2);
    });
  }

  let drawnTiles = "";
  function drawCluster() {
    const canvas = $("cluster");
    if (H > 64) {
      // Tiles change only with the frames (and a lost replica's mark fading): redraw
      // them only then.
      const key = `${S.frame}:${P.selected}:${canvas.clientWidth}x${canvas.clientHeight}:${Math.floor(P.time / Math.max(5, D.end_s / 40))}`;
      if (key === drawnTiles) return;
      drawnTiles = key;
    }
    const { ctx, width, height } = prepare(canvas);
    hostBoxes = [];
    replicaBoxes = [];
    const visible = [];
    for (let host = 0; host < H; host += 1) if (S.hostStatus[host] !== 0 || H <= 8) visible.push(host);
    if (H > 64) return drawTiles(ctx, width, height);
    let columns = Math.max(1, Math.min(visible.length, Math.floor(width / 400)));
    let detailed = Math.ceil(visible.length / columns) * 300 <= height;
    if (!detailed) columns = Math.ceil(Math.sqrt(visible.length * (width / height) / 1.6));
    const rows = Math.max(1, Math.ceil(visible.length / columns));
    const cardW = (width - 12) / columns;
    const cardH = (height - 12) / rows;
    visible.forEach((host, index) => {
      const column = index % columns;
      const row = Math.floor(index / columns);
      drawHostCard(ctx, host, 6 + column * cardW + 3, 6 + row * cardH + 3, cardW - 6, cardH - 6,
        detailed);
    });
  }

  function drawTiles(ctx, width, height) {
    const columns = Math.ceil(Math.sqrt(H * width / height));
    const rows = Math.ceil(H / columns);
    const tileW = (width - 8) / columns;
    const tileH = (height - 8) / rows;
    for (let host = 0; host < H; host += 1) {
      const x = 4 + (host % columns) * tileW;
      const y = 4 + Math.floor(host / columns) * tileH;
      const status = S.hostStatus[host];
      hostBoxes.push([x, y, tileW, tileH, host]);
      ctx.fillStyle = status === 3 ? "#fecaca" : status === 2 ? "#f1f5f9" : "#fafafa";
      ctx.fillRect(x + 0.5, y + 0.5, tileW - 1, tileH - 1);
      if (status === 0 || status === 5) continue;
      // The bar: the host's share of the catalog's layers (its writable layers and VM
      // disks after them), as a tile is too small for its disk's scale.
      const parts = diskParts(host);
      let at = x + 1;
      const barH = Math.max(2, tileH * 0.35);
      parts.forEach(([amount, colour]) => {
        const w = Math.min((amount / catalogBytes) * (tileW - 2), tileW - 2 - (at - x - 1));
        ctx.fillStyle = colour;
        ctx.fillRect(at, y + tileH - barH - 1, Math.max(0, w), barH);
        at += Math.max(0, w);
      });
      const replicas = replicasOn(host);
      const dotW = Math.max(2, (tileW - 2) / Math.max(replicas.length, 1));
      replicas.forEach((replica, index) => {
        ctx.fillStyle = CATEGORIES[CATEGORY_OF[S.replicaState[replica]]][1];
        ctx.fillRect(x + 1 + index * dotW, y + 1, dotW - (dotW > 3 ? 1 : 0), tileH - barH - 3);
      });
      if (tileW > 70 && tileH > 30) {
        ctx.font = "10px sans-serif";
        haloText(ctx, shortName(D.hosts[host][0], tileW - 6, ctx), x + 3, y + 8);
      }
      if (P.selected && P.selected[0] === "host" && P.selected[1] === host) {
        ctx.strokeStyle = "#2563eb";
        ctx.lineWidth = 2;
        ctx.strokeRect(x, y, tileW, tileH);
      }
    }
  }

  // -- the network --------------------------------------------------------------------

  const adjacency = new Map();
  D.links.forEach(([u, v, , , bandwidth]) => {
    if (!adjacency.has(u)) adjacency.set(u, []);
    if (!adjacency.has(v)) adjacency.set(v, []);
    adjacency.get(u).push([v, bandwidth]);
    adjacency.get(v).push([u, bandwidth]);
  });
  // Breadth-first trees, one per source: the network is a tree (a star, or racks under
  // a spine), so each path is the one path.
  const trees = new Map();
  function path(from, to) {
    let parents = trees.get(from);
    if (!parents) {
      parents = new Map([[from, null]]);
      const queue = [from];
      for (let head = 0; head < queue.length; head += 1) {
        (adjacency.get(queue[head]) || []).forEach(([next]) => {
          if (!parents.has(next)) { parents.set(next, queue[head]); queue.push(next); }
        });
      }
      trees.set(from, parents);
    }
    const nodes = [];
    if (parents.has(to)) for (let node = to; node !== null; node = parents.get(node)) nodes.unshift(node);
    return nodes;
  }

  const registryNames = D.registries.map((registry) => registry[0]);
  // Many hosts are drawn as one node per switch they hang off; many racks, as one node
  // for every host and rack switch.
  const groupHosts = H > 12;
  const rackSwitches = new Set(D.switches);
  const groupRacks = rackSwitches.size > 12;
  function networkNode(name) {
    if (groupRacks && (hostIndex.has(name) || rackSwitches.has(name))) return "hosts@*";
    if (groupHosts && hostIndex.has(name)) return `hosts@${D.hosts[hostIndex.get(name)][6]}`;
    return name;
  }

  // Directed links by number: each direction of a link has its own capacity.
  const linkIds = new Map();
  const capacities = [];
  D.links.forEach(([u, v, , , bandwidth]) => {
    [`${u}>${v}`, `${v}>${u}`].forEach((key) => {
      if (!linkIds.has(key)) { linkIds.set(key, capacities.length); capacities.push(bandwidth); }
    });
  });
  const routes = new Map();
  function directedLinks(from, to) {
    const key = `${from}\u0000${to}`;
    let links = routes.get(key);
    if (!links) {
      const nodes = path(from, to);
      links = [];
      for (let i = 0; i + 1 < nodes.length; i += 1) links.push(linkIds.get(`${nodes[i]}>${nodes[i + 1]}`));
      routes.set(key, links);
    }
    return links;
  }

  /** Max-min fair rates of transfers over the network's links (each direction of a
   * link its own capacity), by progressive filling: every transfer's rate grows
   * alike until a link it crosses is full. The model shares bandwidth by this rule. */
  function fairShares(flows) {
    const rates = new Float64Array(flows.length);
    const frozen = new Uint8Array(flows.length);
    const remaining = Float64Array.from(capacities);
    const unfrozen = new Int32Array(capacities.length);
    const users = capacities.map(() => []);
    let left = 0;
    flows.forEach((links, index) => {
      if (!links.length) { frozen[index] = 1; return; }
      left += 1;
      links.forEach((link) => { users[link].push(index); unfrozen[link] += 1; });
    });
    while (left > 0) {
      let increment = Infinity;
      for (let link = 0; link < capacities.length; link += 1) {
        if (unfrozen[link]) increment = Math.min(increment, remaining[link] / unfrozen[link]);
      }
      if (!Number.isFinite(increment)) break;
      for (let link = 0; link < capacities.length; link += 1) remaining[link] -= increment * unfrozen[link];
      flows.forEach((links, index) => { if (!frozen[index]) rates[index] += increment; });
      for (let link = 0; link < capacities.length; link += 1) {
        if (!unfrozen[link] || remaining[link] > capacities[link] * 1e-9) continue;
        users[link].forEach((index) => {
          if (frozen[index]) return;
          frozen[index] = 1;
          left -= 1;
          flows[index].forEach((other) => { unfrozen[other] -= 1; });
        });
      }
    }
    return rates;
  }

  /** The transfers moving bytes now: [from, to, rate, is a mirror's fill]. */
  const shownPaths = new Map();
  function shownPath(from, to) {
    const key = `${from}\u0000${to}`;
    if (!shownPaths.has(key)) shownPaths.set(key, path(from, to).map(networkNode));
    return shownPaths.get(key);
  }

  function activeTransfers() {
    const flows = [];
    D.downloads.forEach(([host, registry, layer, start, end]) => {
      if (start <= P.time && P.time < end && registry >= 0) {
        flows.push([registryNames[registry], D.hosts[host][0], 0, false]);
      }
    });
    D.fills.forEach(([mirror, upstream, layer, start, end]) => {
      if (start <= P.time && P.time < end) {
        flows.push([registryNames[upstream], registryNames[mirror], 0, true]);
      }
    });
    const rates = fairShares(flows.map(([from, to]) => directedLinks(from, to)));
    flows.forEach((flow, index) => { flow[2] = rates[index]; });
    return flows;
  }

  // Transfers start and end at these times: the picture changes only when one passes.
  const transferTimes = [...D.downloads, ...D.fills].flatMap((t) => [t[3], t[4]]).sort((a, b) => a - b);
  function passed(times, time) {
    let low = 0;
    let high = times.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (times[middle] <= time) low = middle + 1; else high = middle;
    }
    return low;
  }

  let drawnNetwork = "";
  function drawNetwork() {
    const canvas = $("network");
    const key = `${passed(transferTimes, P.time)}:${S.frame}:${canvas.clientWidth}x${canvas.clientHeight}`;
    if (key === drawnNetwork) return;
    drawnNetwork = key;
    const { ctx, width, height } = prepare(canvas);
    ctx.font = "bold 12px sans-serif";
    ctx.fillStyle = "#1f2933";
    ctx.fillText("Registries, network and transfers in flight", 8, 11);
    const switches = D.switches;
    const core = [...new Set(D.links.filter(([u, v, ru, rv]) => ru === "registry" || rv === "registry")
      .map(([u, v, ru]) => (ru === "registry" ? v : u)))];
    const position = new Map();
    const top = 26;
    const usable = height - top - 8;
    registryNames.forEach((name, index) => {
      position.set(name, [58, top + usable * (index + 0.5) / registryNames.length]);
    });
    // The core switch(es) beside the registries, the switches hosts hang off after them.
    const spines = core.filter((name) => !switches.includes(name));
    spines.forEach((name, index) => position.set(name, [150, top + usable * (index + 0.5) / spines.length]));
    if (!groupRacks) {
      switches.forEach((name, index) => {
        position.set(name, [spines.length ? 235 : 190, top + usable * (index + 0.5) / switches.length]);
      });
    }
    const right = [];
    if (groupRacks) {
      right.push("hosts@*");
    } else if (groupHosts) {
      switches.forEach((name) => right.push(`hosts@${name}`));
    } else {
      D.hosts.forEach((host, index) => { if (S.hostStatus[index] !== 0 || H <= 8) right.push(host[0]); });
    }
    right.forEach((name, index) => position.set(name, [width - 58, top + usable * (index + 0.5) / Math.max(right.length, 1)]));
    const edges = new Map();
    const edgeKey = (a, b) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);
    D.links.forEach(([u, v, , , bandwidth]) => {
      const a = networkNode(u);
      const b = networkNode(v);
      if (a === b || !position.has(a) || !position.has(b)) return;
      const key = edgeKey(a, b);
      if (!edges.has(key)) edges.set(key, { a, b, bandwidth, loads: new Map(), flows: 0, fill: 0 });
    });
    activeTransfers().forEach(([from, to, bytesPerS, fill]) => {
      const nodes = shownPath(from, to);
      for (let i = 0; i + 1 < nodes.length; i += 1) {
        const edge = edges.get(edgeKey(nodes[i], nodes[i + 1]));
        if (!edge) continue;
        const direction = `${nodes[i]}>${nodes[i + 1]}`;
        const [count, load] = edge.loads.get(direction) || [0, 0];
        edge.loads.set(direction, [count + 1, load + bytesPerS]);
        edge.flows += 1;
        if (fill) edge.fill += 1;
      }
    });
    const busyEdges = [...edges.values()].filter((edge) => edge.flows).length;
    const labels = [];
    edges.forEach((edge) => {
      const [x1, y1] = position.get(edge.a);
      const [x2, y2] = position.get(edge.b);
      ctx.strokeStyle = "#cbd2d9";
      ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
      if (edge.flows) {
        ctx.strokeStyle = edge.fill ? "#9333ea" : "#f59e0b";
        ctx.globalAlpha = 0.85;
        const busiest = Math.max(...[...edge.loads.values()].map(([, load]) => load));
        ctx.lineWidth = 2 + 8 * Math.min(1, busiest / edge.bandwidth);
        ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
        ctx.globalAlpha = 1;
        ctx.font = "10px sans-serif";
        const label = [...edge.loads.values()].map(([count, load]) => `${count} × ${rate(load)}`)
          .join(" ⇄ ");
        if (busyEdges <= 8 || registryNames.includes(edge.a) || registryNames.includes(edge.b)) {
          labels.push([label, (x1 + x2) / 2 - ctx.measureText(label).width / 2, (y1 + y2) / 2 - 9]);
        }
      }
    });
    position.forEach(([x, y], name) => {
      const registry = registryNames.indexOf(name);
      ctx.font = "11px sans-serif";
      if (registry >= 0) {
        const [, kind, upstream, bandwidth] = D.registries[registry];
        ctx.fillStyle = kind === "mirror" ? "#ede9fe" : "#e0f2fe";
        ctx.fillRect(x - 52, y - 15, 104, 30);
        ctx.strokeStyle = "#64748b";
        ctx.lineWidth = 1;
        ctx.strokeRect(x - 51.5, y - 14.5, 103, 29);
        ctx.fillStyle = "#1f2933";
        ctx.fillText(shortName(name, 96, ctx), x - 48, y - 6);
        ctx.fillStyle = "#616e7c";
        ctx.font = "10px sans-serif";
        ctx.fillText(shortName(`${kind}${upstream ? " of " + upstream : ""} · ${rate(bandwidth)}`, 98, ctx), x - 48, y + 7);
      } else if (name.startsWith("hosts@")) {
        const where = name.slice(6);
        const count = D.hosts.filter((host, index) => (where === "*" || host[6] === where)
          && S.hostStatus[index] !== 0).length;
        ctx.fillStyle = "#f1f5f9";
        ctx.fillRect(x - 52, y - 10, 104, 20);
        ctx.fillStyle = "#1f2933";
        const words = where === "*" ? `${count} hosts on ${rackSwitches.size} racks` : `${count} hosts on ${where}`;
        ctx.fillText(shortName(words, 98, ctx), x - 48, y);
      } else if (hostIndex.has(name)) {
        ctx.fillStyle = S.hostStatus[hostIndex.get(name)] === 3 ? "#fecaca" : "#f1f5f9";
        ctx.fillRect(x - 52, y - 9, 104, 18);
        ctx.fillStyle = "#1f2933";
        ctx.fillText(shortName(name, 98, ctx), x - 48, y);
      } else {
        ctx.fillStyle = "#475569";
        ctx.beginPath(); ctx.arc(x, y, 5, 0, 2 * Math.PI); ctx.fill();
        ctx.fillStyle = "#616e7c";
        ctx.font = "10px sans-serif";
        ctx.fillText(shortName(name, 70, ctx), x - 12, y + 13);
      }
    });
    ctx.font = "10px sans-serif";
    labels.forEach(([label, x, y]) => haloText(ctx, label, Math.max(2, x), y));
  }

  // -- the timeline ---------------------------------------------------------------------

  const series = D.series;
  const lanes = [];
  lanes.push({ name: "replicas by state", kind: "replicas" });  // failed and lost ones left out
  if (series.requests_per_s) {
    lanes.push({ name: "requests/s", kind: "series", keys: [["requests_per_s", "#2563eb"]] });
    lanes.push({ name: "latency: mean, p95 wait", kind: "series",
      keys: [["latency_s_avg", "#db2777"], ["wait_s_p95", "#f59e0b"]], unit: "s" });
  }
  lanes.push({ name: "hosts", kind: "hosts" });
  lanes.push({ name: "cost so far", kind: "series", keys: [["cost_usd", "#0f766e"]], unit: "$" });

  const xOf = (time, left, width) => left + ((time - P.view[0]) / (P.view[1] - P.view[0])) * width;
  const timeOf = (x, left, width) => P.view[0] + ((x - left) / width) * (P.view[1] - P.view[0]);
  const LEFT = 150;
  const MARKS_H = 16;

  function valueAt(keys, time) {
    let index = -1;
    const times = series.time_s;
    for (let i = 0; i < times.length; i += 1) if (times[i] <= time) index = i;
    return index < 0 ? null : keys.map(([key]) => series[key][index]);
  }

  function drawTimeline() {
    const { ctx, width, height } = prepare($("timeline"));
    const plotW = width - LEFT - 70;
    const laneH = (height - MARKS_H - 14) / lanes.length;
    ctx.font = "11px sans-serif";
    lanes.forEach((lane, index) => {
      const y = MARKS_H + index * laneH;
      ctx.fillStyle = index % 2 ? "#ffffff" : "#f8fafc";
      ctx.fillRect(LEFT, y, plotW, laneH);
      ctx.fillStyle = "#1f2933";
      ctx.fillText(lane.name, 8, y + laneH / 2);
      if (lane.kind === "replicas") drawReplicaLane(ctx, y, laneH, plotW);
      else if (lane.kind === "hosts") drawStepLane(ctx, y, laneH, plotW, perFrame.hosts, hostsAtStart, "#475569");
      else drawSeriesLane(ctx, lane, y, laneH, plotW);
    });
    // Ticks.
    ctx.fillStyle = "#616e7c";
    const span = P.view[1] - P.view[0];
    const tick = niceStep(span / 8);
    for (let t = Math.ceil(P.view[0] / tick) * tick; t <= P.view[1]; t += tick) {
      const x = xOf(t, LEFT, plotW);
      ctx.fillRect(x, height - 14, 1, 4);
      const label = clock(t).replace(/\.000 s$/, " s");
      ctx.fillText(label, x - ctx.measureText(label).width / 2, height - 5);
    }
    // Marks: the autoscaler's decisions, faults and recoveries, the cluster scaler's.
    D.marks.forEach(([time, kind]) => {
      const x = xOf(time, LEFT, plotW);
      if (x < LEFT || x > LEFT + plotW) return;
      ctx.fillStyle = KIND_COLOURS[kind] || "#334155";
      ctx.fillRect(x - 1, MARKS_H, 2, height - MARKS_H - 14);
      ctx.beginPath();
      ctx.moveTo(x, 2); ctx.lineTo(x + 8, 6); ctx.lineTo(x, MARKS_H - 2); ctx.fill();
    });
    const cursor = xOf(P.time, LEFT, plotW);
    ctx.fillStyle = "#111827";
    ctx.fillRect(cursor - 1, 0, 2, height - 12);
  }

  function niceStep(raw) {
    const steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60,
      120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
    return steps.find((s) => s >= raw) || 86400 * Math.ceil(raw / 86400);
  }

  function frameRange() {
    return [Math.max(0, frameAt(P.view[0])), frameAt(P.view[1])];
  }

  function drawReplicaLane(ctx, y, laneH, plotW) {
    const [first, last] = frameRange();
    let peak = 1;
    for (let f = Math.max(first, 0); f <= last; f += 1) {
      let total = 0;
      CATEGORIES.forEach((_, c) => { if (c !== GONE && !ENDED.has(c)) total += perFrame.counts[c][f]; });
      peak = Math.max(peak, total, perFrame.desired[f]);
    }
    const scale = (laneH - 6) / peak;
    for (let f = Math.max(first, 0); f <= last && f >= 0; f += 1) {
      const x1 = Math.max(LEFT, xOf(D.times[f], LEFT, plotW));
      const x2 = Math.min(LEFT + plotW, f + 1 < F ? xOf(D.times[f + 1], LEFT, plotW) : xOf(D.end_s, LEFT, plotW));
      if (x2 <= x1) continue;
      let base = y + laneH;
      CATEGORIES.forEach(([, colour], c) => {
        if (c === GONE || ENDED.has(c)) return;
        const h = perFrame.counts[c][f] * scale;
        if (!h) return;
        ctx.fillStyle = colour;
        ctx.fillRect(x1, base - h, x2 - x1 + 0.5, h);
        base -= h;
      });
      if (D.fleets.length) {
        ctx.fillStyle = "#111827";
        ctx.fillRect(x1, y + laneH - perFrame.desired[f] * scale - 1, x2 - x1 + 0.5, 2);
      }
    }
    ctx.fillStyle = "#1f2933";
    const now = CATEGORIES.reduce((sum, _, c) => sum + (c === GONE || ENDED.has(c) ? 0 : S.counts[c]), 0);
    ctx.fillText(`${now}${D.fleets.length ? " / desired " + S.desired.reduce((a, b) => a + b, 0) : ""}`, LEFT + plotW + 6, y + laneH / 2);
  }

  function drawStepLane(ctx, y, laneH, plotW, values, start, colour) {
    const [first, last] = frameRange();
    let peak = Math.max(1, start);
    for (let f = Math.max(first, 0); f <= last; f += 1) peak = Math.max(peak, values[f]);
    const scale = (laneH - 6) / peak;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    let value = first > 0 ? values[first - 1] : start;
    if (first === 0 && D.times[0] > P.view[0]) value = start;
    ctx.moveTo(LEFT, y + laneH - value * scale);
    for (let f = Math.max(first, 0); f <= last && f >= 0; f += 1) {
      const x = Math.max(LEFT, xOf(D.times[f], LEFT, plotW));
      ctx.lineTo(x, y + laneH - value * scale);
      value = values[f];
      ctx.lineTo(x, y + laneH - value * scale);
    }
    ctx.lineTo(LEFT + plotW, y + laneH - value * scale);
    ctx.stroke();
    ctx.fillStyle = "#1f2933";
    ctx.fillText(String(S.hostsUp), LEFT + plotW + 6, y + laneH / 2);
  }

  function drawSeriesLane(ctx, lane, y, laneH, plotW) {
    const times = series.time_s;
    let peak = 0;
    lane.keys.forEach(([key]) => series[key].forEach((value) => { peak = Math.max(peak, value); }));
    peak = peak || 1;
    const scale = (laneH - 6) / peak;
    lane.keys.forEach(([key, colour]) => {
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2;
      ctx.beginPath();
      let previous = 0;
      times.forEach((time, index) => {
        // Each sample measures the period that ends at it: a step over that period.
        const x1 = xOf(previous, LEFT, plotW);
        const x2 = xOf(time, LEFT, plotW);
        const v = y + laneH - series[key][index] * scale;
        if (index === 0) ctx.moveTo(Math.max(LEFT, x1), v);
        ctx.lineTo(Math.min(Math.max(LEFT, x1), LEFT + plotW), v);
        ctx.lineTo(Math.min(Math.max(LEFT, x2), LEFT + plotW), v);
        previous = time;
      });
      ctx.stroke();
    });
    const now = valueAt(lane.keys, P.time);
    if (now) {
      ctx.fillStyle = "#1f2933";
      const text = now.map((v) => (lane.unit === "$" ? `$${v.toFixed(v < 1 ? 4 : 2)}`
        : lane.unit === "s" ? duration(v) : three(v))).join(" / ");
      ctx.fillText(text, LEFT + plotW + 6, y + laneH / 2);
    }
  }

  // -- captions, details, stats --------------------------------------------------------

  function captionAt(time) {
    let index = -1;
    let low = 0;
    let high = D.captions.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (D.captions[middle][0] <= time + 5e-4) { index = middle; low = middle + 1; } else high = middle - 1;
    }
    return index;
  }

  function stamp(time) { return `[${time.toFixed(3).padStart(9)} s] `; }

  let shownCaption = -2;
  function drawCaptions() {
    const index = captionAt(P.time);
    if (index === shownCaption) return;
    shownCaption = index;
    const box = $("captions");
    box.replaceChildren();
    for (let i = Math.max(0, index - 2); i < index; i += 1) {
      const line = document.createElement("div");
      line.className = "earlier";
      line.textContent = stamp(D.captions[i][0]) + D.captions[i][1];
      box.appendChild(line);
    }
    const now = document.createElement("div");
    now.className = "now";
    now.id = "caption";
    now.textContent = index >= 0 ? stamp(D.captions[index][0]) + D.captions[index][1]
      : (D.captions.length ? "(the story starts at " + clock(D.captions[0][0]) + ")" : "");
    box.appendChild(now);
  }

  function stat(id, label, value) {
    const item = document.createElement("span");
    item.appendChild(document.createTextNode(label + " "));
    const number = document.createElement("b");
    number.id = id;
    number.textContent = String(value);
    item.appendChild(number);
    return item;
  }

  function countStates() {
    let containers = 0;
    let vms = 0;
    let starting = 0;
    let pulling = 0;
    let inService = 0;
    for (let replica = 0; replica < R; replica += 1) {
      if (!S.seen[replica]) continue;
      const state = S.replicaState[replica];
      if (RUNNING_STATES.has(state)) {
        if (isVm[replica]) vms += 1; else containers += 1;
      }
      const category = CATEGORY_OF[state];
      if (category >= 1 && category <= 4) starting += 1;
      if (category === 2 || category === 3) pulling += 1;
      if (state === STATE.in_service) inService += 1;
    }
    return { containers, vms, starting, pulling, inService };
  }

  function drawStats() {
    const counts = countStates();
    let transfers = 0;
    D.downloads.forEach((d) => { if (d[3] <= P.time && P.time < d[4]) transfers += 1; });
    const footer = $("stats");
    footer.replaceChildren(
      stat("stat-time", "time", clock(P.time)),
      stat("stat-hosts", "hosts up", S.hostsUp),
      stat("stat-containers", "containers running", counts.containers),
      stat("stat-vms", "VMs running", counts.vms),
      stat("stat-starting", "starting", counts.starting),
      stat("stat-pulling", "pulling", counts.pulling),
      stat("stat-transfers", "layer downloads in flight", transfers),
      stat("stat-desired", "replicas desired", D.fleets.length ? S.desired.reduce((a, b) => a + b, 0) : "–"),
      stat("stat-in-service", "in service", counts.inService),
    );
    $("clock").textContent = `${clock(P.time)} of ${clock(D.end_s)}`;
  }

  function pre(lines) {
    const block = document.createElement("pre");
    block.textContent = lines.join("\n");
    return block;
  }
  function pad(text, width) { return String(text).padEnd(width); }

  function hostDetails(host) {
    const [name, vcpu, memory, disk, type, zone] = D.hosts[host];
    const box = [];
    const title = document.createElement("h2");
    title.textContent = `${name} (${type || "host"}${zone ? ", " + zone : ""}) at ${clock(P.time)}: ${HOST_WORDS[S.hostStatus[host]]}`;
    box.push(title);
    const images = [...S.images[host]].sort((a, b) => a - b);
    const rows = [`$ docker images`, `${pad("REPOSITORY", 26)}${pad("TAG", 10)}${pad("IMAGE ID", 14)}SIZE`];
    images.forEach((image) => {
      const [, reference, id, layers] = D.images[image];
      const colon = reference.lastIndexOf(":");
      const bytes = layers.reduce((sum, layer) => sum + layerSize[layer], 0);
      rows.push(`${pad(reference.slice(0, colon), 26)}${pad(reference.slice(colon + 1), 10)}${pad(id.replace("sha256:", "").slice(0, 12), 14)}${size(bytes)}`);
    });
    box.push(pre(rows));
    const layers = [...S.layers[host].entries()].sort((a, b) => a[0] - b[0]);
    const stored = layers.filter(([, status]) => status >= 5).length;
    const count = document.createElement("div");
    count.className = "layer-count";
    count.textContent = `${stored} layers stored (${size(layersBytes(host))}), ${layers.length - stored} on their way`;
    box.push(count);
    box.push(pre([`${pad("LAYER", 14)}${pad("SIZE", 10)}${pad("STATUS", 20)}FROM IMAGE`,
      ...layers.map(([layer, status]) => `${pad(D.layers[layer][0], 14)}${pad(size(layerSize[layer]), 10)}${pad(LAYER_WORDS[status], 20)}${D.bases[layerBase[layer]]}`)]));
    const replicas = replicasOn(host);
    box.push(pre([`$ docker ps  (and VMs)`, `${pad("NAME", 30)}${pad("PLATFORM", 12)}STATE`,
      ...replicas.map((r) => `${pad(D.replicas[r][0], 30)}${pad(D.replicas[r][2], 12)}${D.states[S.replicaState[r]].replace(/_/g, " ")}`)]));
    box.push(pre([
      `vCPU requested  ${three(S.usage[host * 3])} of ${vcpu}`,
      `memory          ${size(S.usage[host * 3 + 1])} of ${size(memory)}`,
      `disk            layers ${size(layersBytes(host))}, writable layers and VM disks ${size(S.usage[host * 3 + 2])}, of ${size(disk)}`,
    ]));
    return box;
  }

  const PHASE_NAMES = ["wait", "provision", "boot", "pull download", "pull extract", "create", "start", "init"];
  const PHASE_COLOURS = ["#9aa5b1", "#60a5fa", "#1d4ed8", "#f59e0b", "#ea580c", "#a3e635", "#22c55e", "#a78bfa"];

  function replicaDetails(replica) {
    const [name, app, platform, kind, record] = D.replicas[replica];
    const box = [];
    const title = document.createElement("h2");
    const host = S.replicaHost[replica];
    title.textContent = `${name}: ${D.states[S.replicaState[replica]].replace(/_/g, " ")} at ${clock(P.time)}`;
    box.push(title);
    box.push(pre([`app ${app}, platform ${platform} (${kind})${host >= 0 ? ", on " + D.hosts[host][0] : ""}`]));
    if (record) {
      const [requested, ready, state, reason, phases] = record;
      const total = phases.reduce((a, b) => a + b, 0);
      const bar = document.createElement("div");
      bar.className = "phases";
      phases.forEach((seconds, index) => {
        if (seconds <= 0) return;
        const part = document.createElement("span");
        part.style.width = `${(100 * seconds) / total}%`;
        part.style.background = PHASE_COLOURS[index];
        part.title = `${PHASE_NAMES[index]} ${duration(seconds)}`;
        bar.appendChild(part);
      });
      const started = document.createElement("div");
      started.textContent = ready !== null
        ? `Start-up: requested at ${clock(requested)}, ready at ${clock(ready)} (${duration(ready - requested)})`
        : `Start-up: requested at ${clock(requested)}; ended ${state}${reason ? " (" + reason + ")" : ""}`;
      box.push(started, bar);
      box.push(pre(phases.map((seconds, index) => `${pad(PHASE_NAMES[index], 15)}${seconds > 0 ? duration(seconds) : "-"}`)));
    }
    const history = [];
    for (let f = 0; f < F; f += 1) {
      const changes = D.changes[f];
      for (let i = 0; i < changes.length;) {
        const op = changes[i];
        if (op === 0 && changes[i + 1] === replica) history.push(`${stamp(D.times[f])}${D.states[changes[i + 2]].replace(/_/g, " ")}`);
        i += op === 0 || op === 1 || op === 4 ? 4 : op === 3 ? 5 : 3;
      }
    }
    box.push(pre(["States (as the frames show them):", ...history]));
    return box;
  }

  function legend() {
    const box = [];
    const hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = "Click a host to list its images and layers (docker images), or a container or VM to see its start-up phases.";
    box.push(hint);
    const states = document.createElement("div");
    states.className = "legend";
    CATEGORIES.slice(0, -1).forEach(([name, colour]) => {
      const item = document.createElement("span");
      item.textContent = name;
      item.style.setProperty("--swatch", colour);
      states.appendChild(item);
    });
    box.push(states);
    const bases = document.createElement("div");
    bases.className = "legend";
    D.bases.forEach((base, index) => {
      const item = document.createElement("span");
      item.textContent = `layers of ${base}`;
      item.style.setProperty("--swatch", baseColour(index));
      bases.appendChild(item);
    });
    const other = document.createElement("span");
    other.textContent = "writable layers and VM disks";
    other.style.setProperty("--swatch", "#334155");
    bases.appendChild(other);
    box.push(bases);
    const shapes = document.createElement("p");
    shapes.className = "hint";
    shapes.textContent = "Rounded chips are containers, squares with a thick border are VMs (µVM: microVMs). Orange lines: layer downloads; purple: a mirror filling from its upstream; each labelled with the transfers on it and their rate, the max-min fair shares of the links.";
    box.push(shapes);
    if (D.notes.length) box.push(pre(D.notes));
    return box;
  }

  let shownDetails = "";
  function drawDetails() {
    const key = `${P.selected ? P.selected.join(":") : ""}@${S.frame}@${P.selected ? P.time.toFixed(2) : ""}`;
    if (key === shownDetails) return;
    shownDetails = key;
    let content;
    if (P.selected && P.selected[0] === "host") content = hostDetails(P.selected[1]);
    else if (P.selected && P.selected[0] === "replica") content = replicaDetails(P.selected[1]);
    else content = legend();
    $("details").replaceChildren(...content);
  }

  let draws = 0;
  function draw() {
    draws += 1;
    indexReplicas();
    drawCluster();
    drawNetwork();
    drawTimeline();
    drawCaptions();
    drawStats();
    drawDetails();
  }

  // -- input -----------------------------------------------------------------------------

  function within(box, x, y) { return x >= box[0] && x <= box[0] + box[2] && y >= box[1] && y <= box[1] + box[3]; }

  $("cluster").addEventListener("click", (event) => {
    const x = event.offsetX;
    const y = event.offsetY;
    const replica = replicaBoxes.find((box) => within(box, x, y));
    const host = hostBoxes.find((box) => within(box, x, y));
    if (replica) P.selected = ["replica", replica[4]];
    else if (host) P.selected = ["host", host[4]];
    else P.selected = null;
    shownDetails = "";
    draw();
  });

  const timeline = $("timeline");
  timeline.addEventListener("click", (event) => {
    const plotW = timeline.clientWidth - LEFT - 70;
    if (event.offsetX < LEFT) return;
    pause();
    seek(timeOf(Math.min(event.offsetX, LEFT + plotW), LEFT, plotW));
  });
  timeline.addEventListener("wheel", (event) => {
    event.preventDefault();
    const plotW = timeline.clientWidth - LEFT - 70;
    const at = timeOf(Math.max(LEFT, Math.min(event.offsetX, LEFT + plotW)), LEFT, plotW);
    const factor = event.deltaY > 0 ? 1.25 : 0.8;
    const span = Math.min(D.end_s, Math.max((P.view[1] - P.view[0]) * factor, D.frame_s * 20));
    let start = at - (at - P.view[0]) * (span / (P.view[1] - P.view[0]));
    start = Math.max(0, Math.min(start, D.end_s - span));
    P.view = [start, start + span];
    draw();
  }, { passive: false });
  timeline.addEventListener("dblclick", () => { P.view = [0, Math.max(D.end_s, 1e-3)]; draw(); });
  timeline.addEventListener("mousemove", (event) => {
    const plotW = timeline.clientWidth - LEFT - 70;
    const tip = $("tip");
    const mark = D.marks.find(([time]) => Math.abs(xOf(time, LEFT, plotW) - event.offsetX) < 4);
    if (event.offsetX < LEFT) { tip.style.display = "none"; return; }
    tip.textContent = `${clock(timeOf(event.offsetX, LEFT, plotW))}${mark ? " · " + mark[2] : ""}`;
    tip.style.display = "block";
    tip.style.left = `${Math.min(event.offsetX + 12, timeline.clientWidth - 300)}px`;
    tip.style.top = "4px";
  });
  timeline.addEventListener("mouseleave", () => { $("tip").style.display = "none"; });

  $("play").addEventListener("click", () => (P.playing ? pause() : play()));
  $("prev").addEventListener("click", () => step(-1));
  $("next").addEventListener("click", () => step(1));
  speedSelect.addEventListener("change", () => { P.speed = Number(speedSelect.value); });

  function changeSpeed(direction) {
    const index = SPEEDS.indexOf(P.speed);
    const next = Math.min(SPEEDS.length - 1, Math.max(0, index + direction));
    P.speed = SPEEDS[next];
    speedSelect.value = String(P.speed);
  }

  document.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLSelectElement || event.ctrlKey || event.metaKey || event.altKey) return;
    const keys = {
      " ": () => (P.playing ? pause() : play()),
      ArrowRight: () => step(1),
      ArrowLeft: () => step(-1),
      "]": () => changeSpeed(1),
      "[": () => changeSpeed(-1),
      Home: () => { pause(); seek(0); },
      End: () => { pause(); seek(D.end_s); },
      Escape: () => { P.selected = null; shownDetails = ""; draw(); },
    };
    const action = keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  window.addEventListener("resize", draw);

  // For scripted use (the test suite drives the page through these, and clicks).
  window.replay = {
    seek: (time) => { pause(); seek(time); },
    time: () => P.time,
    frames: () => F,
    hostBox: (name) => {
      const box = hostBoxes.find((b) => D.hosts[b[4]][0] === name);
      if (!box) return null;
      const rect = $("cluster").getBoundingClientRect();
      return { x: rect.left + box[0], y: rect.top + box[1], width: box[2], height: box[3] };
    },
    replicaBox: (name) => {
      const box = replicaBoxes.find((b) => D.replicas[b[4]][0] === name);
      if (!box) return null;
      const rect = $("cluster").getBoundingClientRect();
      return { x: rect.left + box[0], y: rect.top + box[1], width: box[2], height: box[3] };
    },
    playing: () => P.playing,
    speed: () => P.speed,
    draws: () => draws,
  };

  $("title").textContent = D.title;
  $("about").textContent = D.about;
  seek(0);
  document.body.dataset.ready = "1";
  document.body.dataset.readyMs = String(Math.round(performance.now()));
})();
