/* The report's interactive map, written for ps-bundler: plain JavaScript, no library,
   nothing fetched. It draws the JSON of #map-data (bundler/outputs/report/map_data.py)
   as SVG; pans and zooms with the mouse (wheel, drag), touch (pinch, drag) and the
   keyboard; shows a panel for the bundle or unit clicked or found; switches layers;
   and links bundles to the rows of the report's tables and back. Every word it
   shows comes from MAP_TEXT, which the template defines. */
(function () {
  "use strict";
  var T = MAP_TEXT;
  var NS = "http://www.w3.org/2000/svg";
  var root = document.getElementById("ps-map");
  var data = JSON.parse(document.getElementById("map-data").textContent);
  var view = root.querySelector(".map-view");
  var svg = view.querySelector("svg.map");
  var panel = view.querySelector(".map-panel");
  var panelTitle = panel.querySelector("h3");
  var panelBody = panel.querySelector(".map-panel-body");
  var scale = view.querySelector(".map-scale");
  var W = data.grid[0], H = data.grid[1];
  var units = data.units, bundles = data.bundles;
  var nUnits = units.id.length, nBundles = bundles.id.length;

  function make(tag, cls, parent) {
    var e = document.createElementNS(NS, tag);
    if (cls) e.setAttribute("class", cls);
    if (parent) parent.appendChild(e);
    return e;
  }
  function html(tag, text, parent) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  // ------------------------------------------------------------ drawing
  // bottom to top: units in no bundle, excluded units, bundles' units, district
  // outlines, bundle outlines, the selection; labels sit outside the zoomed group so
  // their text keeps its size.
  var world = make("g", "world", svg);
  var layers = {
    unselected: make("g", "unselected", world),
    excluded: make("g", "excluded", world),
    bundled: make("g", "bundled", world),
    districts: make("g", "districts", world),
    outlines: make("g", "outlines", world)
  };
  var selection = make("g", "selection", world);
  var labels = make("g", "labels", svg);
  // context (units in no bundle, districts) may be written in units of several grid steps
  var contextScale = data.context_scale || 1;
  if (contextScale !== 1) {
    [layers.unselected, layers.excluded, layers.districts].forEach(function (g) {
      g.setAttribute("transform", "scale(" + contextScale + ")");
    });
  }

  var unitBundle = new Int32Array(nUnits).fill(-1);
  bundles.members.forEach(function (members, b) {
    members.forEach(function (i) { unitBundle[i] = b; });
  });
  var excluded = new Uint8Array(nUnits);
  units.excluded.forEach(function (i) { excluded[i] = 1; });
  var unitPath = new Array(nUnits);

  function addUnit(parent, i) {
    if (!units.d[i]) return;
    var p = document.createElementNS(NS, "path");
    p.setAttribute("d", units.d[i]);
    p.psUnit = i;  // what a click on it picks
    parent.appendChild(p);
    unitPath[i] = p;
  }
  function draw() {
    var unsel = document.createDocumentFragment(), excl = document.createDocumentFragment();
    for (var i = 0; i < nUnits; i++) {
      if (unitBundle[i] < 0) addUnit(excluded[i] ? excl : unsel, i);
    }
    layers.unselected.appendChild(unsel);
    layers.excluded.appendChild(excl);
    var bund = document.createDocumentFragment();
    bundles.members.forEach(function (members, b) {
      var g = make("g", null, bund);
      g.setAttribute("fill", bundles.color[b]);
      members.forEach(function (i) { addUnit(g, i); });
    });
    layers.bundled.appendChild(bund);
    var dist = document.createDocumentFragment();
    data.districts.forEach(function (d) { make("path", null, dist).setAttribute("d", d); });
    layers.districts.appendChild(dist);
    var out = document.createDocumentFragment();
    bundles.d.forEach(function (d, b) {
      if (!d) return;
      var p = make("path", null, out);
      p.setAttribute("d", d);
      p.style.color = bundles.color[b];  // the outline's colour where units are too small
    });
    layers.outlines.appendChild(out);
    labelText = bundles.id.map(function (id, b) {
      if (!bundles.at[b]) return null;
      var t = make("text", null, labels);
      t.setAttribute("text-anchor", "middle");
      t.setAttribute("dominant-baseline", "middle");
      t.textContent = id;
      return t;
    });
  }
  var labelText = [];

  // ------------------------------------------------------------ view: screen = grid * k + t
  var k = 1, tx = 0, ty = 0, vw = 1, vh = 1, fitK = 1, pending = false;

  function measure() {
    vw = view.clientWidth || 1;
    vh = view.clientHeight || 1;
    fitK = Math.min(vw / W, vh / H);
  }
  function reset() {
    measure();
    k = fitK;
    tx = (vw - W * k) / 2;
    ty = (vh - H * k) / 2;
    schedule();
  }
  // every map is DETAIL (16,000) grid steps across, simplified to one step: beyond 16 px
  // a step there is nothing more to see, and a search or a link zooms no further than
  // 2 px a step, where the simplification stays under 2 px
  var MAX_K = 16, FIND_K = 2;
  function clampK(v) { return Math.max(fitK * 0.5, Math.min(MAX_K, v)); }
  function schedule() {
    if (!pending) { pending = true; requestAnimationFrame(render); }
  }
  function render() {
    pending = false;
    world.setAttribute("transform", "matrix(" + k + " 0 0 " + k + " " + tx + " " + ty + ")");
    // units a few pixels wide: their outlines would hide their colours
    svg.classList.toggle("far", data.unit_size * k < 10);
    placeLabels();
    drawScale();
  }
  function zoomAt(px, py, f) {
    var k2 = clampK(k * f);
    f = k2 / k;
    tx = px - (px - tx) * f;
    ty = py - (py - ty) * f;
    k = k2;
    schedule();
  }
  function panBy(dx, dy) { tx += dx; ty += dy; schedule(); }
  function zoomToBox(x0, y0, x1, y1, share) {
    // centred in the part of the map the panel leaves free
    var free = panel.hidden ? vw : Math.max(vw - panel.offsetWidth - 16, vw / 2);
    var w = Math.max(x1 - x0, 1), h = Math.max(y1 - y0, 1);
    k = clampK(Math.min(free * share / w, vh * share / h, FIND_K));
    tx = free / 2 - (x0 + w / 2) * k;
    ty = vh / 2 - (y0 + h / 2) * k;
    schedule();
  }

  function placeLabels() {
    var on = layerOn.bundles;
    for (var b = 0; b < nBundles; b++) {
      var t = labelText[b];
      if (!t) continue;
      var box = bundles.box[b], at = bundles.at[b];
      var x = at[0] * k + tx, y = at[1] * k + ty;
      // a label only where its bundle is wide enough on screen to carry it
      var show = on && box && (box[2] - box[0]) * k >= 28 && x > -50 && y > -20 &&
        x < vw + 50 && y < vh + 20;
      if (show) {
        t.setAttribute("x", x.toFixed(1));
        t.setAttribute("y", y.toFixed(1));
      }
      t.style.display = show ? "" : "none";
    }
  }

  var scaleBar = scale.querySelector(".map-scale-bar");
  var scaleLabel = scale.querySelector(".map-scale-label");
  function drawScale() {
    if (!data.step_m) return;
    scale.hidden = false;
    var mpp = data.step_m / k;  // metres per screen pixel
    var target = 120 * mpp;
    var p = Math.pow(10, Math.floor(Math.log10(target)));
    var len = [5, 2, 1].map(function (m) { return m * p; })
      .filter(function (v) { return v <= target; })[0];
    scaleBar.style.width = (len / mpp).toFixed(1) + "px";
    scaleLabel.textContent = len >= 1000 ? fmt(len / 1000, 0) + " " + T.km
      : fmt(len, len < 1 ? 2 : 0) + " " + T.m;
  }

  // a text of MAP_TEXT with {name} replaced (a function, so "$&" in an id stays as it is)
  function fillIn(text, name, value) {
    return text.replace("{" + name + "}", function () { return value; });
  }
  function fmt(v, digits) {
    return v.toLocaleString(T.locale, {
      minimumFractionDigits: digits, maximumFractionDigits: digits
    });
  }

  // ------------------------------------------------------------ layers
  var layerOn = { bundles: true, unselected: true, excluded: true, districts: true };
  var layerGroups = {
    bundles: [layers.bundled, layers.outlines, labels],
    unselected: [layers.unselected],
    excluded: [layers.excluded],
    districts: [layers.districts]
  };
  var boxes = {};
  root.querySelectorAll("input[data-layer]").forEach(function (box) {
    boxes[box.getAttribute("data-layer")] = box;
    box.addEventListener("change", function () {
      setLayer(box.getAttribute("data-layer"), box.checked);
    });
  });
  function setLayer(name, on) {
    layerOn[name] = on;
    if (boxes[name]) boxes[name].checked = on;
    layerGroups[name].forEach(function (g) { g.style.display = on ? "" : "none"; });
    schedule();
  }
  function layerOfUnit(i) {
    return unitBundle[i] >= 0 ? "bundles" : excluded[i] ? "excluded" : "unselected";
  }

  // ------------------------------------------------------------ selection and panel
  var tableRows = null;  // bundle id -> the first row of each table that lists it
  function rowsOf(id) {
    if (!tableRows) {  // on first use: the tables come after this script in the page
      tableRows = {};
      document.querySelectorAll("tr[data-bundle]").forEach(function (tr) {
        var b = tr.getAttribute("data-bundle");
        var table = tr.id.replace(/-r\d+$/, "");
        var list = tableRows[b] || (tableRows[b] = []);
        if (!list.some(function (r) { return r.table === table; })) {
          list.push({ table: table, row: tr });
        }
      });
    }
    return tableRows[id] || [];
  }

  function unitScale(i) { return unitBundle[i] >= 0 ? 1 : contextScale; }
  function highlight(d, s) {
    selection.textContent = "";
    if (!d) return;
    ["halo", "line"].forEach(function (cls) {
      var p = make("path", cls, selection);
      p.setAttribute("d", d);
      if (s && s !== 1) p.setAttribute("transform", "scale(" + s + ")");
    });
  }
  function label(key) { return (T.fields && T.fields[key]) || key; }
  function definitions(rows) {
    var dl = html("dl", null, panelBody);
    rows.forEach(function (r) {
      var dt = html("dt", r[0], dl);
      dt.setAttribute("data-key", r[2] || "");
      var dd = html("dd", null, dl);
      if (r[1] instanceof Node) dd.appendChild(r[1]); else dd.textContent = r[1];
      dd.setAttribute("data-key", r[2] || "");
    });
    return dl;
  }
  function button(text, onclick) {
    var b = html("button", text);
    b.type = "button";
    b.addEventListener("click", onclick);
    return b;
  }
  function openPanel(title, kind, id) {
    panel.hidden = false;
    panelTitle.textContent = title;
    panelBody.textContent = "";
    panel.setAttribute("data-kind", kind);
    panel.setAttribute("data-id", id);
    root.setAttribute("data-selected", kind + ":" + id);
  }
  function clearSelection() {
    highlight(null);
    panel.hidden = true;
    root.removeAttribute("data-selected");
  }

  function zoomToBundle(b) {
    var box = bundles.box[b] || [0, 0, W, H];
    zoomToBox(box[0], box[1], box[2], box[3], 0.8);
  }
  function selectBundle(b, zoom) {
    var id = bundles.id[b];
    highlight(bundles.d[b] || bundles.members[b].map(function (i) { return units.d[i]; }).join(""));
    openPanel(fillIn(T.bundle_title, "id", id), "bundle", id);
    var rows = [];
    bundles.fields.forEach(function (f, j) {
      var v = bundles.fig[b][j];
      if (v !== "") rows.push([label(f), v, f]);
    });
    if (rows.length) definitions(rows); else html("p", T.no_figures, panelBody);
    var shares = bundles.shares[b];
    if (shares.length) {
      html("h4", T.shares, panelBody);
      var table = html("table", null, panelBody);
      var head = html("tr", null, html("thead", null, table));
      [T.party, T.amount, T.share].forEach(function (h) { html("th", h, head); });
      var body = html("tbody", null, table);
      shares.forEach(function (s) {
        var tr = html("tr", null, body);
        tr.setAttribute("data-party", s[0]);
        html("td", (T.parties && T.parties[s[0]]) || s[0], tr);
        html("td", s[1], tr).className = "num";
        html("td", s[2], tr).className = "num";
      });
    }
    var links = rowsOf(id);
    if (links.length) {
      html("h4", T.in_tables, panelBody);
      var ul = html("ul", null, panelBody);
      links.forEach(function (r) {
        var heading = document.getElementById(r.table);
        var a = html("a", heading ? heading.textContent : r.table, html("li", null, ul));
        a.href = "#" + r.row.id;
        a.className = "to-table";
      });
    }
    panelBody.appendChild(button(T.zoom_to, function () { zoomToBundle(b); }));
    if (zoom) zoomToBundle(b);
  }
  function unitZoom(i) {
    var p = unitPath[i];
    if (!p) return;
    var r = p.getBBox(), s = unitScale(i);
    // a unit alone would fill the screen: show it with its neighbours around it
    zoomToBox(r.x * s, r.y * s, (r.x + r.width) * s, (r.y + r.height) * s, 0.25);
  }
  function selectUnit(i, zoom) {
    var id = units.id[i];
    highlight(units.d[i], unitScale(i));
    openPanel(fillIn(T.unit_title, "id", id), "unit", id);
    var rows = [];
    var b = unitBundle[i];
    if (b >= 0) {
      var a = html("a", bundles.id[b]);
      a.href = "#map";
      a.className = "to-map";
      a.setAttribute("data-bundle", bundles.id[b]);
      rows.push([T.in_bundle, a, "bundle"]);
    } else {
      html("p", excluded[i] ? T.unit_excluded : T.unit_unselected, panelBody);
    }
    var reason = data.reasons[units.reason[i]];
    if (reason) rows.push([label("reason"), reason, "reason"]);
    units.fields.forEach(function (f, j) {
      var v = units.values[j][i];
      if (v === null || v === undefined) return;
      var text = f[1] === null ? units.cats[f[0]][v] : fmt(v / Math.pow(10, f[1]), f[1]);
      if (text !== "") rows.push([label(f[0]), text, f[0]]);
    });
    definitions(rows);
    panelBody.appendChild(button(T.zoom_to, function () { unitZoom(i); }));
    if (zoom) unitZoom(i);
  }

  var bundleIndex = {};
  bundles.id.forEach(function (id, b) { bundleIndex[id] = b; });
  function show(kind, index, zoom) {
    if (kind === "bundle") {
      setLayer("bundles", true);
      selectBundle(index, zoom);
    } else {
      setLayer(layerOfUnit(index), true);
      selectUnit(index, zoom);
    }
  }

  // ------------------------------------------------------------ search
  var form = root.querySelector(".map-search");
  var query = form.querySelector("input");
  var message = form.querySelector("output");
  var exact = null, folded = null;
  function lookup(text) {
    if (!exact) {  // built on the first search: a national map has 100,000 ids
      exact = new Map();
      folded = new Map();
      units.id.forEach(function (id, i) {
        exact.set(id, ["unit", i]);
        folded.set(id.toLowerCase(), ["unit", i]);
      });
      bundles.id.forEach(function (id, b) {
        exact.set(id, ["bundle", b]);
        folded.set(id.toLowerCase(), ["bundle", b]);
      });
    }
    return exact.get(text) || folded.get(text.toLowerCase());
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = query.value.trim();
    if (!text) return;
    var hit = lookup(text);
    message.textContent = hit ? "" : fillIn(T.not_found, "q", text);
    if (hit) show(hit[0], hit[1], true);
  });

  // ------------------------------------------------------------ mouse, touch, keyboard
  view.addEventListener("wheel", function (e) {
    if (panel.contains(e.target)) return;  // the panel scrolls its own text
    e.preventDefault();
    var r = view.getBoundingClientRect();
    var dy = e.deltaY * (e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? vh : 1);
    zoomAt(e.clientX - r.left, e.clientY - r.top, Math.exp(-dy * 0.002));
  }, { passive: false });

  var pointers = new Map(), moved = 0;
  view.addEventListener("pointerdown", function (e) {
    if (panel.contains(e.target) || (e.pointerType === "mouse" && e.button !== 0)) return;
    view.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (pointers.size === 1) moved = 0;
  });
  view.addEventListener("pointermove", function (e) {
    var prev = pointers.get(e.pointerId);
    if (!prev) return;
    var cur = { x: e.clientX, y: e.clientY };
    if (pointers.size === 1) {
      moved += Math.abs(cur.x - prev.x) + Math.abs(cur.y - prev.y);
      if (moved > 3) view.classList.add("dragging");
      panBy(cur.x - prev.x, cur.y - prev.y);
    } else if (pointers.size === 2) {
      var other = null;
      pointers.forEach(function (p, id) { if (id !== e.pointerId) other = p; });
      var r = view.getBoundingClientRect();
      var d0 = Math.hypot(prev.x - other.x, prev.y - other.y);
      var d1 = Math.hypot(cur.x - other.x, cur.y - other.y);
      moved += 10;  // a pinch is never a click
      panBy((cur.x - prev.x) / 2, (cur.y - prev.y) / 2);
      if (d0 > 0) {
        zoomAt((cur.x + other.x) / 2 - r.left, (cur.y + other.y) / 2 - r.top, d1 / d0);
      }
    }
    pointers.set(e.pointerId, cur);
  });
  function release(e) {
    if (!pointers.has(e.pointerId)) return;
    var single = pointers.size === 1;
    pointers.delete(e.pointerId);
    if (!pointers.size) view.classList.remove("dragging");
    if (single && moved <= 3 && e.type === "pointerup") pick(e.clientX, e.clientY);
  }
  view.addEventListener("pointerup", release);
  view.addEventListener("pointercancel", release);
  view.addEventListener("dblclick", function (e) {
    if (panel.contains(e.target)) return;
    var r = view.getBoundingClientRect();
    zoomAt(e.clientX - r.left, e.clientY - r.top, e.shiftKey ? 0.5 : 2);
  });

  function pick(cx, cy) {
    var t = document.elementFromPoint(cx, cy);
    if (t && t.psUnit !== undefined) {
      var b = unitBundle[t.psUnit];
      if (b >= 0) selectBundle(b, false); else selectUnit(t.psUnit, false);
    } else if (t && !panel.contains(t)) {
      clearSelection();
    }
  }

  view.addEventListener("keydown", function (e) {
    if (panel.contains(e.target) && e.key !== "Escape") return;
    var step = 80;
    switch (e.key) {
      case "+": case "=": zoomAt(vw / 2, vh / 2, 1.5); break;
      case "-": case "_": zoomAt(vw / 2, vh / 2, 1 / 1.5); break;
      case "ArrowLeft": panBy(step, 0); break;
      case "ArrowRight": panBy(-step, 0); break;
      case "ArrowUp": panBy(0, step); break;
      case "ArrowDown": panBy(0, -step); break;
      case "0": case "Home": reset(); break;
      case "Escape": clearSelection(); view.focus(); break;
      default: return;
    }
    e.preventDefault();
  });
  root.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      var how = b.getAttribute("data-zoom");
      if (how === "reset") reset(); else zoomAt(vw / 2, vh / 2, how === "in" ? 1.5 : 1 / 1.5);
    });
  });
  panel.querySelector(".map-close").addEventListener("click", clearSelection);

  // a bundle id in a table, the legend or a unit's panel: select it on the map
  document.addEventListener("click", function (e) {
    var a = e.target.closest ? e.target.closest("a.to-map") : null;
    if (!a) return;
    var b = bundleIndex[a.getAttribute("data-bundle")];
    if (b === undefined) return;
    e.preventDefault();
    if (!root.contains(a)) document.getElementById("map").scrollIntoView();
    show("bundle", b, true);
    view.focus({ preventScroll: true });
  });

  // ------------------------------------------------------------ start
  if (window.ResizeObserver) {
    new ResizeObserver(function () {
      var cx = (vw / 2 - tx) / k, cy = (vh / 2 - ty) / k;  // keep the centre in place
      measure();
      k = clampK(k);
      tx = vw / 2 - cx * k;
      ty = vh / 2 - cy * k;
      schedule();
    }).observe(view);
  }
  // the view's size and first zoom before any path exists: measuring after would
  // make the browser style and lay out every path one extra time
  reset();
  render();
  draw();
  render();
  // set once the first frame with the map in it has been painted (benchmarks, tests)
  requestAnimationFrame(function () {
    requestAnimationFrame(function () {
      root.setAttribute("data-ready", String(Math.round(performance.now())));
    });
  });
})();
