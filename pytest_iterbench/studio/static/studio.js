/* iterbench studio: the page's script. Plain ES5 (no build step, no modules, no arrow
   functions, no fetch): it runs in browsers a decade old, and says what is missing where
   it cannot. Everything it loads comes from the studio itself. */
(function () {
  "use strict";

  var missing = [];
  if (!window.XMLHttpRequest) { missing.push("XMLHttpRequest"); }
  if (!window.JSON) { missing.push("JSON"); }
  if (!window.WebSocket) { missing.push("WebSocket (live status)"); }
  if (!document.querySelector) { missing.push("document.querySelector"); }
  if (!document.createElementNS) { missing.push("SVG (charts)"); }

  var token = (function () {
    var match = /[?&]token=([^&#]+)/.exec(window.location.search);
    return match ? decodeURIComponent(match[1]) : "";
  }());
  var SVG = "http://www.w3.org/2000/svg";
  var ORCHESTRATION_EVENTS = { "orchestration.start": 1, "orchestration.finish": 1, "orchestration.push": 1,
                               "step.start": 1, "step.finish": 1, "step.skip": 1 };
  var FINAL = { passed: 1, failed: 1, error: 1, skipped: 1, "not run": 1, interrupted: 1 };
  var state = { sessions: {}, order: [], workspace: null, plan: null, holder: null,
                results: null, selected: null, orchestration: null, orchState: null };
  /* When each item's final state was drawn (ms since the epoch), for benchmarks/bench_studio.py. */
  var shown = {};
  window.iterbenchStudio = { shown: shown, state: state };

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    var key;
    for (key in attrs || {}) {
      if (attrs.hasOwnProperty(key)) {
        if (key === "text") { node.appendChild(document.createTextNode(String(attrs[key]))); }
        else if (key === "className") { node.className = attrs[key]; }
        else { node.setAttribute(key, attrs[key]); }
      }
    }
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    var key;
    for (key in attrs) { if (attrs.hasOwnProperty(key)) { node.setAttribute(key, attrs[key]); } }
    if (text !== undefined) { node.appendChild(document.createTextNode(String(text))); }
    return node;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } return node; }

  function message(text, kind) {
    var box = $("messages");
    var line = el("div", { className: kind || "error", text: text });
    box.appendChild(line);
    if (kind === "info") { setTimeout(function () { if (line.parentNode) { box.removeChild(line); } }, 6000); }
  }

  function fmt(value) {
    if (value === null || value === undefined) { return "–"; }
    if (typeof value !== "number") { return String(value); }
    var abs = Math.abs(value);
    return abs !== 0 && (abs < 0.001 || abs >= 1e6) ? value.toExponential(3) : String(Math.round(value * 10000) / 10000);
  }

  /* --- HTTP ------------------------------------------------------------------------- */

  function request(method, url, body, done, loadingNode) {
    var xhr = new XMLHttpRequest();
    if (loadingNode) { clear(loadingNode).appendChild(el("span", { className: "muted", text: "loading…" })); }
    xhr.open(method, url, true);
    xhr.setRequestHeader("X-Iterbench-Token", token);
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      var data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (loadingNode) { clear(loadingNode); }
      if (xhr.status >= 200 && xhr.status < 300 && data !== null) { done(data, null); return; }
      var why = data && data.error ? data.error : "HTTP " + xhr.status + " from " + url + (xhr.status === 0 ? " (is the studio still running?)" : "");
      done(data, why);
    };
    xhr.send(body === undefined ? null : body);
  }

  function getJSON(url, done, loadingNode) {
    request("GET", url, undefined, function (data, error) {
      if (error) { message(error); if (loadingNode) { loadingNode.appendChild(el("p", { className: "error-text", text: error })); } return; }
      done(data);
    }, loadingNode);
  }

  function q(params) {
    var parts = [];
    var key;
    for (key in params) {
      if (params.hasOwnProperty(key) && params[key] !== null && params[key] !== undefined && params[key] !== "") {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(params[key]));
      }
    }
    return parts.length ? "?" + parts.join("&") : "";
  }

  /* --- tabs ------------------------------------------------------------------------- */

  function showTab(name) {
    ["input", "workflow", "output"].forEach(function (other) {
      var selected = other === name;
      $("tab-" + other).setAttribute("aria-selected", selected ? "true" : "false");
      $("tab-" + other).setAttribute("tabindex", selected ? "0" : "-1");
      if (selected) { $(other + "-panel").removeAttribute("hidden"); } else { $(other + "-panel").setAttribute("hidden", "hidden"); }
    });
    if (name === "output") { loadResults(); }
  }

  function setupTabs() {
    var names = ["input", "workflow", "output"];
    names.forEach(function (name, index) {
      var tab = $("tab-" + name);
      tab.addEventListener("click", function () { showTab(name); });
      tab.addEventListener("keydown", function (event) {
        var step = event.keyCode === 39 ? 1 : event.keyCode === 37 ? -1 : 0;
        if (step) {
          var next = names[(index + step + names.length) % names.length];
          showTab(next);
          $("tab-" + next).focus();
        }
      });
    });
  }

  /* --- input panel -------------------------------------------------------------------- */

  function readFile(file) {
    if (!window.FileReader) { message("This browser has no FileReader: paste the plan into the text box instead."); return; }
    var reader = new FileReader();
    reader.onload = function () { $("plan-text").value = reader.result; validatePlan(file.name); };
    reader.onerror = function () { message("Could not read " + file.name); };
    reader.readAsText(file);
  }

  function setupInput() {
    var zone = $("dropzone");
    zone.addEventListener("dragover", function (event) { event.preventDefault(); zone.className = "dropzone over"; });
    zone.addEventListener("dragleave", function () { zone.className = "dropzone"; });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.className = "dropzone";
      if (event.dataTransfer && event.dataTransfer.files && event.dataTransfer.files.length) { readFile(event.dataTransfer.files[0]); }
    });
    zone.addEventListener("keydown", function (event) { if (event.keyCode === 13 || event.keyCode === 32) { event.preventDefault(); $("plan-file").click(); } });
    zone.addEventListener("click", function () { $("plan-file").click(); });
    $("plan-file").addEventListener("change", function () { if (this.files && this.files.length) { readFile(this.files[0]); } });
    $("validate-plan").addEventListener("click", function () { validatePlan("plan.json"); });
    $("apply-plan").addEventListener("click", applyPlan);
  }

  function validatePlan(name) {
    state.planName = name || "plan.json";
    $("apply-plan").disabled = true;
    request("POST", "/api/plan/validate" + q({ file: state.planName }), $("plan-text").value, function (data, error) {
      if (error && !data) { message(error); return; }
      if (error && data && !data.problems) { message(error); return; }
      showPlanCheck(data);
    }, $("plan-status"));
  }

  function showPlanCheck(data) {
    var status = clear($("plan-status"));
    var plan = null;
    try { plan = JSON.parse($("plan-text").value); } catch (e) { plan = null; }
    if (data.ok) {
      status.appendChild(el("p", { className: "ok-text", text: "Valid plan: it adds " + describeAdds(data.adds) + "." }));
      $("apply-plan").disabled = false;
    } else {
      status.appendChild(el("p", { className: "error-text", text: data.problems.length + " problem(s): nothing can be applied until they are fixed." }));
    }
    showPlanEntries(plan, data.problems || []);
  }

  function describeAdds(adds) {
    var parts = [];
    ["iterations", "metrics", "runs"].forEach(function (kind) {
      if (adds && adds[kind] && adds[kind].length) { parts.push(kind + " " + adds[kind].join(", ")); }
    });
    return parts.length ? parts.join("; ") : "nothing new";
  }

  /* Each problem goes next to the entry its JSON path names (iterations[1]...), the rest on top. */
  function showPlanEntries(plan, problems) {
    var box = clear($("plan-entries"));
    var used = {};
    var general = el("div", {});
    box.appendChild(general);
    ["iterations", "metrics", "runs"].forEach(function (kind) {
      var entries = plan && plan[kind] && plan[kind].forEach ? plan[kind] : [];
      entries.forEach(function (entry, index) {
        var prefix = kind + "[" + index + "]";
        var mine = [];
        problems.forEach(function (problem, k) {
          var at = problem.location || "";
          if (at === prefix || at.indexOf(prefix + ".") === 0 || at.indexOf(prefix + "[") === 0) { mine.push(problem); used[k] = true; }
        });
        var id = entry && entry.id ? entry.id : "(no id)";
        var node = el("div", { className: mine.length ? "entry bad" : "entry", "data-entry": prefix },
          [el("strong", { text: prefix + " " + id })]);
        mine.forEach(function (problem) { node.appendChild(el("div", { className: "problem", text: problem.location + ": " + problem.message })); });
        box.appendChild(node);
      });
    });
    problems.forEach(function (problem, k) {
      if (!used[k]) { general.appendChild(el("div", { className: "problem", text: problem.file + ": " + (problem.location ? problem.location + ": " : "") + problem.message })); }
    });
  }

  function applyPlan() {
    $("apply-plan").disabled = true;
    request("POST", "/api/plan/apply" + q({ file: state.planName || "plan.json" }), $("plan-text").value, function (data, error) {
      if (data && data.ok) {
        message("Plan applied: added " + describeAdds(data.added) + ".", "info");
        clear($("plan-status")).appendChild(el("p", { className: "ok-text", text: "Applied: " + describeAdds(data.added) + "." }));
        loadWorkspace();
      } else if (data && data.problems) { showPlanCheck(data); } else { message(error || "the plan was not applied"); }
    }, null);
  }

  function loadWorkspace() {
    getJSON("/api/workspace", function (data) {
      state.workspace = data;
      $("workspace-root").textContent = data.root;
      var problems = clear($("workspace-problems"));
      (data.problems || []).forEach(function (p) { problems.appendChild(el("div", { className: "problem", text: p.file + ": " + p.location + ": " + p.message })); });
      if (data.problems && data.problems.length) { message("The workspace does not load: see the Input panel."); return; }
      drawLineage(data.iterations);
      var metrics = clear($("metric-list"));
      data.metrics.forEach(function (m) { metrics.appendChild(el("li", { text: m.id + (m.unit ? " (" + m.unit + ")" : "") + ", " + (m.higher_is_better ? "higher" : "lower") + " is better" })); });
      var runs = clear($("run-list"));
      data.runs.forEach(function (r) { runs.appendChild(el("li", { text: r.id + ": " + r.iteration_ids.length + " iterations × " + r.metric_ids.length + " metrics, " + r.sessions.length + " session(s)" })); });
      fillSelect($("launch-run"), data.runs.map(function (r) { return r.id; }));
      fillSelect($("result-run"), data.runs.map(function (r) { return r.id; }));
      fillSelect($("code-iteration"), data.iterations.map(function (it) { return it.id; }));
      showSteps();
      fillSessions();
      loadCode();
    }, null);
  }

  /* The lineage as a tree of nested lists, drawn here (no Mermaid script needed). */
  function drawLineage(iterations) {
    var known = {};
    var children = {};
    iterations.forEach(function (it) { known[it.id] = it; });
    iterations.forEach(function (it) {
      var parent = it.parent && known[it.parent] ? it.parent : "";
      (children[parent] = children[parent] || []).push(it);
    });
    function branch(parent) {
      var list = el("ul", { className: "tree" });
      (children[parent] || []).forEach(function (it) {
        var item = el("li", {}, [el("strong", { text: it.id }), " " + (it.name && it.name !== it.id ? it.name + " " : "") + "(" + it.source_path + ")"]);
        if (children[it.id]) { item.appendChild(branch(it.id)); }
        list.appendChild(item);
      });
      return list;
    }
    clear($("lineage")).appendChild(branch(""));
  }

  function fillSelect(select, values, keep) {
    var before = keep === false ? null : select.value;
    clear(select);
    values.forEach(function (value) { select.appendChild(el("option", { value: value, text: value })); });
    if (before && values.indexOf(before) >= 0) { select.value = before; }
  }

  /* --- workflow panel ------------------------------------------------------------------ */

  function runById(id) {
    var found = null;
    (state.workspace && state.workspace.runs || []).forEach(function (r) { if (r.id === id) { found = r; } });
    return found;
  }

  function showSteps() {
    var run = runById($("launch-run").value);
    var box = clear($("run-steps"));
    if (!run) { return; }
    box.appendChild(el("p", { text: "Steps of " + run.id + ": each of " + run.iteration_ids.join(", ") + " measured on " + run.metric_ids.join(", ") + "." }));
  }

  var HELP = {
    run: "Start runs python -m pytest --iterbench RUN -n WORKERS in the workspace; Stop interrupts it like Ctrl-C (results so far are kept).",
    orchestration: "Start runs python -m pytest_iterbench orchestrate (the planner, the plan file or description, or --resume) in the workspace; Stop interrupts it like Ctrl-C: state.json keeps every step done, and resume continues with the first one not done."
  };

  function showLaunchFields() {
    var kind = $("launch-kind").value;
    var manual = $("launch-planner").value === "manual";
    if (kind === "run") { $("orchestration-fields").setAttribute("hidden", "hidden"); $("run-fields").removeAttribute("hidden"); }
    else { $("run-fields").setAttribute("hidden", "hidden"); $("orchestration-fields").removeAttribute("hidden"); }
    $("launch-help").textContent = HELP[kind];
    $("launch-task-label").textContent = manual ? "Plan file" : "Description";
    if (manual && !$("launch-task").value) { $("launch-task").value = "plan.json"; }
    if (!manual && $("launch-task").value === "plan.json") { $("launch-task").value = ""; }
    $("launch-task").disabled = $("launch-resume").checked;
    $("launch-planner").disabled = $("launch-resume").checked;
  }

  function launchBody() {
    if ($("launch-kind").value === "run") {
      return { kind: "run", target: $("launch-run").value, workers: parseInt($("launch-workers").value, 10) || 0 };
    }
    return { kind: "orchestration", planner: $("launch-planner").value, target: $("launch-task").value, resume: $("launch-resume").checked, workers: parseInt($("launch-workers").value, 10) || 0 };
  }

  function setupWorkflow() {
    $("launch-run").addEventListener("change", showSteps);
    ["launch-kind", "launch-planner", "launch-resume"].forEach(function (id) { $(id).addEventListener("change", showLaunchFields); });
    showLaunchFields();
    $("start").addEventListener("click", function () {
      var body = JSON.stringify(launchBody());
      $("start").disabled = true;
      request("POST", "/execute", body, function (data, error) {
        if (error) { message(error + (data && data.holder ? "" : "")); $("start").disabled = false; return; }
        message("Started " + data.started.kind + " " + data.started.target + " (pid " + data.started.pid + ").", "info");
      }, null);
    });
    $("stop").addEventListener("click", function () {
      request("POST", "/api/stop", "", function (data, error) {
        if (error) { message(error); return; }
        message(data.stopping ? "Stopping: the session keeps what it measured so far." : "No session of this studio to stop.", "info");
      }, null);
    });
  }

  function showHolder(status) {
    state.holder = status.holder;
    var holder = status.holder;
    $("holder").textContent = holder ? "session: " + holder.kind + " " + holder.target + " (pid " + holder.pid + ", since " + holder.since + ", held by " + holder.by + ")" : "no session running";
    $("start").disabled = !!holder;
    $("stop").disabled = !(holder && status.own);
    $("session-output").textContent = (status.output_tail || []).join("\n");
    if (!holder && status.last_exit !== null && status.last_exit !== undefined) {
      $("holder").textContent += " (last exit status " + status.last_exit + ")";
    }
  }

  /* The same folding rules as studio/live.py. */
  function foldOrchestration(event) {
    var kind = event.event;
    var orch = state.orchestration;
    var step;
    if (kind === "orchestration.start") {
      state.orchestration = { task: event.task, planner: event.planner, pid: event.pid, started_at: event.at, finished: false,
                              status: "running", cost_usd: null, push: null, steps: {} };
      return;
    }
    if (!orch) { return; }
    if (kind === "step.start") {
      orch.steps[event.step] = { id: event.step, kind: event.kind, target: event.target, attempt: event.attempt, status: "running", started_at: event.at };
      return;
    }
    if (kind === "orchestration.push") { orch.push = { remote: event.remote, ok: event.ok, error: event.error, at: event.at }; return; }
    if (kind === "orchestration.finish") {
      orch.finished = true; orch.status = event.status; orch.cost_usd = event.cost_usd; orch.finished_at = event.at;
      return;
    }
    step = orch.steps[event.step] = orch.steps[event.step] || { id: event.step };
    if (kind === "step.finish") {
      ["status", "seconds", "cost_usd", "error"].forEach(function (name) { step[name] = event[name]; });
      step.finished_at = event.at;
    } else if (kind === "step.skip") {
      step.status = "done";
      step.note = event.reason;
    }
  }

  function fold(event) {
    var kind = event.event;
    var session;
    if (ORCHESTRATION_EVENTS[kind]) { foldOrchestration(event); return null; }
    if (kind === "session.start") {
      session = { session_id: event.session_id, run_id: event.run_id, pid: event.pid, started_at: event.at,
                  workers: event.workers || 0, total: null, items: {}, finished: false, exitstatus: null, counts: {} };
      state.sessions[event.session_id] = session;
      state.order.push(event.session_id);
      return session;
    }
    session = state.sessions[event.session_id];
    if (!session) { return null; }
    if (kind === "session.items") {
      session.total = event.total;
      (event.items || []).forEach(function (nodeid) { if (!session.items[nodeid]) { session.items[nodeid] = { state: "queued" }; } });
    } else if (kind === "item.start") {
      session.items[event.nodeid] = session.items[event.nodeid] || {};
      session.items[event.nodeid].state = "running";
    } else if (kind === "item.finish") {
      var item = session.items[event.nodeid] = session.items[event.nodeid] || {};
      ["outcome", "duration", "worker", "iteration_id", "metric_id", "repeat", "status", "value", "unit", "reason"].forEach(function (name) { item[name] = event[name]; });
      item.state = event.outcome || "error";
    } else if (kind === "session.finish") {
      session.finished = true;
      session.exitstatus = event.exitstatus;
      session.counts = event.counts || {};
      Object.keys(session.items).forEach(function (nodeid) {
        var it = session.items[nodeid];
        if (it.state === "queued") { it.state = "not run"; } else if (it.state === "running") { it.state = "interrupted"; }
      });
    }
    return session;
  }

  function snapshot(data) {
    state.sessions = {};
    state.order = [];
    (data.sessions || []).forEach(function (s) { state.sessions[s.session_id] = s; state.order.push(s.session_id); });
    state.orchestration = data.orchestration || null;
    drawItems();
    loadOrchestration();
  }

  /* --- orchestration steps: state.json's list, overlaid with what the live events say -- */

  function loadOrchestration() {
    request("GET", "/api/orchestration", undefined, function (data, error) {
      if (error && data && data.error && data.error.indexOf("no orchestration") === 0) { state.orchState = null; }
      else if (error) { message(error); return; }
      else { state.orchState = data; }
      drawSteps();
    }, null);
  }

  function mergedSteps() {
    var rows = [];
    var byId = {};
    var live = state.orchestration ? state.orchestration.steps : {};
    ((state.orchState && state.orchState.steps) || []).forEach(function (s) {
      var row = { id: s.id, status: s.status, attempts: s.attempts, seconds: s.seconds, cost_usd: s.cost_usd,
                  note: s.error || (s.outputs && s.outputs.reason) || "" };
      byId[s.id] = row;
      rows.push(row);
    });
    Object.keys(live).forEach(function (id) {
      var s = live[id];
      var row = byId[id];
      if (!row) { row = byId[id] = { id: id, attempts: 0 }; rows.push(row); }
      row.status = s.status || row.status;
      if (s.attempt && s.attempt > (row.attempts || 0)) { row.attempts = s.attempt; }
      if (s.seconds !== undefined && s.status !== "running") { row.seconds = s.seconds; }
      if (s.cost_usd !== undefined && s.cost_usd !== null) { row.cost_usd = s.cost_usd; }
      if (s.status === "running") { row.note = ""; }
      if (s.error) { row.note = s.error; } else if (s.note) { row.note = s.note; }
    });
    return rows;
  }

  function taskText(task) {
    if (!task) { return "?"; }
    if (task.kind === "description") { return "“" + task.description + "”"; }
    return task.kind + " " + task.path;
  }

  function orchestrationLabel(rows) {
    var live = state.orchestration;
    var saved = state.orchState;
    var planner = live ? live.planner : saved && saved.planner;
    var task = live ? live.task : saved && saved.task;
    var cost = live && live.finished ? live.cost_usd : saved && saved.cost_usd;
    var held = state.holder && state.holder.kind === "orchestration";
    var where = held ? "running" : (live && live.finished ? "finished: " + live.status : "not running (resume continues it)");
    var done = rows.filter(function (r) { return r.status === "done" || r.status === "skipped"; }).length;
    return "Orchestration (planner " + planner + ", task: " + taskText(task) + "): " + where + " · " + done + "/" + rows.length +
      " steps done" + (cost === null || cost === undefined ? "" : " · cost $" + Number(cost).toFixed(4));
  }

  function drawSteps() {
    var rows = mergedSteps();
    var table = $("steps");
    var body = clear(table.getElementsByTagName("tbody")[0]);
    if (!rows.length) { table.setAttribute("hidden", "hidden"); $("orchestration-label").textContent = ""; return; }
    table.removeAttribute("hidden");
    $("orchestration-label").textContent = orchestrationLabel(rows);
    rows.forEach(function (r) {
      body.appendChild(el("tr", { className: "state-" + r.status, "data-step": r.id, "data-status": r.status }, [
        el("td", { text: r.id }), el("td", { className: "state", text: r.status }), el("td", { className: "num", text: String(r.attempts || 0) }),
        el("td", { className: "num", text: r.seconds === null || r.seconds === undefined ? "" : Number(r.seconds).toFixed(1) }),
        el("td", { className: "num", text: r.cost_usd === null || r.cost_usd === undefined ? "" : "$" + Number(r.cost_usd).toFixed(4) }),
        el("td", { text: String(r.note || "").split("\n")[0] })
      ]));
    });
  }

  function currentSession() {
    var id = state.order.length ? state.order[state.order.length - 1] : null;
    return id ? state.sessions[id] : null;
  }

  function drawItems() {
    var session = currentSession();
    var body = clear($("items").getElementsByTagName("tbody")[0]);
    var progress = clear($("progress"));
    if (!session) { progress.appendChild(el("p", { className: "muted", text: "No session yet: choose a run and press Start." })); return; }
    var counts = {};
    var nodeids = Object.keys(session.items);
    var now = new Date().getTime();
    nodeids.forEach(function (nodeid) {
      var item = session.items[nodeid];
      counts[item.state] = (counts[item.state] || 0) + 1;
      var row = el("tr", { className: "state-" + item.state.replace(" ", "-"), "data-nodeid": nodeid, "data-state": item.state }, [
        el("td", { text: nodeid }), el("td", { text: item.iteration_id || "" }), el("td", { text: item.metric_id || "" }),
        el("td", { className: "state", text: item.state + (item.reason && item.state !== "passed" ? ": " + item.reason.split("\n")[0] : "") }),
        el("td", { className: "num", text: item.value === undefined ? "" : fmt(item.value) + (item.unit ? " " + item.unit : "") })
      ]);
      if (FINAL[item.state] && !shown[session.session_id + " " + nodeid]) { shown[session.session_id + " " + nodeid] = now; }
      body.appendChild(row);
    });
    var total = session.total || nodeids.length;
    var done = 0;
    Object.keys(FINAL).forEach(function (k) { done += counts[k] || 0; });
    var label = session.run_id + " · session " + session.session_id + " · " + done + "/" + total + " done" + (session.finished ? " · finished (exit status " + session.exitstatus + ")" : "");
    var bar = el("div", { className: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": String(total), "aria-valuenow": String(done), "aria-label": "items done" });
    ["passed", "failed", "error", "skipped", "running"].forEach(function (k) {
      if (counts[k] && total) { bar.appendChild(el("span", { className: k, style: "width:" + (100 * counts[k] / total) + "%", title: k + ": " + counts[k] })); }
    });
    progress.appendChild(el("p", { id: "progress-label", text: label }));
    progress.appendChild(bar);
    progress.appendChild(el("p", { className: "muted", text: Object.keys(counts).map(function (k) { return k + " " + counts[k]; }).join(" · ") }));
  }

  var drawPending = false;
  function scheduleDraw() {
    if (drawPending) { return; }
    drawPending = true;
    (window.requestAnimationFrame || function (f) { setTimeout(f, 16); })(function () { drawPending = false; drawItems(); });
  }

  function connect() {
    if (!window.WebSocket) { return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws?token=" + encodeURIComponent(token));
    var badge = $("connection");
    socket.onopen = function () { badge.textContent = "live"; badge.className = "badge ok"; };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "snapshot") { snapshot(data); }
      else if (data.type === "events") {
        var finished = false;
        var steps = false;
        var saved = false;
        data.events.forEach(function (e) {
          fold(e);
          if (e.event === "session.finish" || e.event === "orchestration.finish") { finished = true; }
          if (ORCHESTRATION_EVENTS[e.event]) { steps = true; }
          if (e.event === "step.finish" || e.event === "orchestration.start" || e.event === "orchestration.finish") { saved = true; }
        });
        scheduleDraw();
        if (steps) { drawSteps(); }
        if (saved) { loadOrchestration(); }
        if (finished) { loadWorkspace(); }
      } else if (data.type === "session") { showHolder(data); drawSteps(); }
      else if (data.type === "error") { message(data.error); }
    };
    socket.onclose = function () {
      badge.textContent = "disconnected: retrying"; badge.className = "badge bad";
      setTimeout(connect, 1000);
    };
  }

  /* --- output panel ------------------------------------------------------------------- */

  function fillSessions() {
    var run = runById($("result-run").value);
    fillSelect($("result-session"), run ? run.sessions.slice().reverse() : []);
  }

  function loadResults() {
    var run = $("result-run").value;
    if (!run) { return; }
    getJSON("/api/results" + q({ run: run, session: $("result-session").value }), function (data) {
      state.results = data;
      drawResults(data);
      drawCharts(data);
      var metrics = data.metrics.map(function (m) { return m.id; });
      fillSelect($("pareto-x"), metrics);
      fillSelect($("pareto-y"), metrics);
      if (metrics.length > 1 && $("pareto-x").value === $("pareto-y").value) { $("pareto-y").value = metrics[1]; }
      loadPareto();
    }, $("results-status"));
    getJSON("/api/costs", drawCosts, null);
    $("report").setAttribute("src", "/report" + q({ token: token }));
    $("report-link").setAttribute("href", "/report" + q({ token: token }));
  }

  function cellOf(data, iteration, metric) {
    var found = null;
    data.cells.forEach(function (c) { if (c.iteration_id === iteration && c.metric_id === metric) { found = c; } });
    return found;
  }

  function drawResults(data) {
    var table = clear($("results"));
    if (!data.cells.length) { table.appendChild(el("tr", {}, [el("td", { text: "No results for " + data.run_id + " yet: start it in the Workflow panel." })])); return; }
    table.appendChild(el("tr", {}, [el("th", { text: "Iteration" })].concat(data.metrics.map(function (m) { return el("th", { text: m.id + (m.unit ? " (" + m.unit + ")" : "") }); }))));
    data.iterations.forEach(function (iteration) {
      var row = el("tr", {}, [el("th", { text: iteration })]);
      data.metrics.forEach(function (m) {
        var c = cellOf(data, iteration, m.id);
        var text = c ? fmt(c.centre) + (c.values.length > 1 ? " [" + fmt(c.min) + "–" + fmt(c.max) + "] n=" + c.values.length : "") : "–";
        var bad = c && Object.keys(c.statuses).some(function (s) { return s !== "passed"; });
        var td = el("td", { className: "num cell" + (bad ? " error-text" : ""), tabindex: "0", text: text + (bad ? " ⚠" : "") });
        if (c) {
          td.setAttribute("title", JSON.stringify(c.statuses));
          var pick = function () { selectCell(c); };
          td.addEventListener("click", pick);
          td.addEventListener("keydown", function (event) { if (event.keyCode === 13) { pick(); } });
        }
        row.appendChild(td);
      });
      table.appendChild(row);
    });
  }

  function scale(values, from, to) {
    var low = Math.min.apply(null, values);
    var high = Math.max.apply(null, values);
    if (low === high) { low -= 1; high += 1; }
    return function (v) { return from + (v - low) / (high - low) * (to - from); };
  }

  /* One chart per metric: a column per iteration, a dot per repeat, a bar at the centre, a min-max whisker. */
  function drawCharts(data) {
    var box = clear($("charts"));
    data.metrics.forEach(function (m) {
      var cells = data.iterations.map(function (it) { return cellOf(data, it, m.id); });
      var all = [];
      cells.forEach(function (c) { if (c) { all = all.concat(c.values); } });
      if (!all.length) { return; }
      var width = 80 + 70 * data.iterations.length;
      var height = 200;
      var y = scale(all, height - 30, 20);
      var chart = svg("svg", { width: width, height: height, role: "img", "aria-label": "chart of " + m.id, "class": "metric-chart" });
      chart.appendChild(svg("text", { x: 4, y: 12 }, m.id + (m.unit ? " (" + m.unit + ")" : "") + (m.higher_is_better ? " ↑" : " ↓")));
      chart.appendChild(svg("line", { x1: 50, y1: 20, x2: 50, y2: height - 30, stroke: "#999" }));
      [Math.min.apply(null, all), Math.max.apply(null, all)].forEach(function (v) {
        chart.appendChild(svg("text", { x: 2, y: y(v) + 4 }, fmt(v)));
      });
      cells.forEach(function (c, i) {
        var x = 80 + 70 * i;
        chart.appendChild(svg("text", { x: x - 25, y: height - 12 }, data.iterations[i].slice(0, 12)));
        if (!c || !c.values.length) { return; }
        chart.appendChild(svg("line", { x1: x, x2: x, y1: y(c.min), y2: y(c.max), stroke: "#555" }));
        chart.appendChild(svg("line", { x1: x - 16, x2: x + 16, y1: y(c.centre), y2: y(c.centre), stroke: "#20313f", "stroke-width": 3 }));
        c.values.forEach(function (v, k) {
          var dot = svg("circle", { cx: x + 6 * ((k % 5) - 2), cy: y(v), r: 3.5, fill: "#2c5fa3", "fill-opacity": 0.7, tabindex: "0" });
          dot.appendChild(svg("title", {}, data.iterations[i] + " · repeat " + k + ": " + fmt(v)));
          dot.addEventListener("click", function () { selectCell(c); });
          chart.appendChild(dot);
        });
      });
      box.appendChild(el("div", {}, [chart]));
    });
    if (!box.firstChild) { box.appendChild(el("p", { className: "muted", text: "No values to chart yet." })); }
  }

  function loadPareto() {
    var run = $("result-run").value;
    var x = $("pareto-x").value;
    var yMetric = $("pareto-y").value;
    if (!run || !x || !yMetric) { return; }
    getJSON("/api/pareto" + q({ run: run, x: x, y: yMetric, session: $("result-session").value }), drawPareto, $("pareto"));
  }

  function drawPareto(data) {
    var box = clear($("pareto"));
    var placed = data.points.filter(function (p) { return p.x !== null && p.y !== null; });
    if (!placed.length) { box.appendChild(el("p", { className: "muted", text: "No iteration has values on both metrics." })); return; }
    var width = 420;
    var height = 260;
    var sx = scale(placed.map(function (p) { return p.x; }), 60, width - 90);
    var sy = scale(placed.map(function (p) { return p.y; }), height - 40, 20);
    var chart = svg("svg", { width: width, height: height, role: "img", "aria-label": "Pareto front", "class": "pareto-chart" });
    chart.appendChild(svg("text", { x: 60, y: height - 8 }, data.axes[0].metric_id + " (" + data.axes[0].better + " is better)"));
    chart.appendChild(svg("text", { x: 4, y: 12 }, data.axes[1].metric_id + " (" + data.axes[1].better + " is better)"));
    var front = placed.filter(function (p) { return p.on_front; }).sort(function (a, b) { return a.x - b.x; });
    if (front.length > 1) {
      chart.appendChild(svg("polyline", { points: front.map(function (p) { return sx(p.x) + "," + sy(p.y); }).join(" "), fill: "none", stroke: "#2c7a3a", "stroke-dasharray": "4 3" }));
    }
    placed.forEach(function (p) {
      var dot = svg("circle", { cx: sx(p.x), cy: sy(p.y), r: 6, fill: p.on_front ? "#2c7a3a" : "#aaa" });
      dot.appendChild(svg("title", {}, p.iteration_id + ": " + fmt(p.x) + ", " + fmt(p.y) + (p.on_front ? " (on the front)" : " (dominated)")));
      chart.appendChild(dot);
      chart.appendChild(svg("text", { x: sx(p.x) + 8, y: sy(p.y) - 6 }, p.iteration_id));
    });
    box.appendChild(chart);
  }

  function selectCell(c) {
    state.selected = c;
    var run = $("result-run").value;
    getJSON("/api/history" + q({ run: run, iteration: c.iteration_id, metric: c.metric_id }), function (data) { drawHistory(c, data); }, $("history"));
    if (c.nodeid) {
      getJSON("/api/item" + q({ run: run, session: c.session_id, nodeid: c.nodeid }), drawDetail, $("detail"));
    }
  }

  function drawHistory(c, data) {
    var box = clear($("history"));
    box.appendChild(el("p", { text: c.iteration_id + " · " + c.metric_id + ": " + data.sessions + " session(s) of this configuration" + (data.other_configurations ? ", " + data.other_configurations + " of other configurations left out" : "") }));
    if (data.points.length < 1) { return; }
    var width = 60 + 60 * data.points.length;
    var height = 160;
    var ys = scale(data.points.map(function (p) { return p.centre; }), height - 30, 15);
    var chart = svg("svg", { width: width, height: height, role: "img", "aria-label": "history", "class": "history-chart" });
    var line = data.points.map(function (p, i) { return (40 + 60 * i) + "," + ys(p.centre); }).join(" ");
    chart.appendChild(svg("polyline", { points: line, fill: "none", stroke: "#2c5fa3", "stroke-width": 2 }));
    data.points.forEach(function (p, i) {
      var dot = svg("circle", { cx: 40 + 60 * i, cy: ys(p.centre), r: 4, fill: "#2c5fa3" });
      dot.appendChild(svg("title", {}, p.session_id + ": " + fmt(p.centre) + " (n=" + p.n + ")"));
      chart.appendChild(dot);
      chart.appendChild(svg("text", { x: 40 + 60 * i - 10, y: ys(p.centre) - 8 }, fmt(p.centre)));
    });
    box.appendChild(chart);
  }

  function drawDetail(data) {
    var box = clear($("detail"));
    var record = data.record;
    if (!record) { box.appendChild(el("p", { className: "muted", text: "No record found for this item." })); return; }
    box.appendChild(el("p", { text: record.iteration_id + " · " + record.metric_id + " · repeat " + record.repeat + " · status " + record.status + " · value " + fmt(record.value) }));
    if (record.reason) { box.appendChild(el("h4", { text: "Reason" })); box.appendChild(el("pre", { className: "detail", text: record.reason })); }
    if (data.traceback) { box.appendChild(el("h4", { text: "Traceback" })); box.appendChild(el("pre", { className: "detail traceback", text: data.traceback })); }
    if (data.log_tail && data.log_tail.length) {
      box.appendChild(el("h4", { text: "Log tail (" + data.log + ")" }));
      box.appendChild(el("pre", { className: "detail", text: data.log_tail.join("\n") }));
    }
  }

  function loadCode(file) {
    var iteration = $("code-iteration").value;
    if (!iteration) { return; }
    getJSON("/api/code" + q({ iteration: iteration, file: file }), function (data) {
      fillSelect($("code-file"), data.files, false);
      $("code-file").value = data.file;
      $("code").innerHTML = data.html; /* Pygments' HTML, escaped on the server */
      $("diff").innerHTML = data.diff_html || "<p class=\"muted\">No parent: nothing to compare.</p>";
      if (data.parameter_changes && data.parameter_changes.length) {
        $("diff").insertBefore(el("p", { className: "parameter-changes", text: "Parameters changed from " + data.parent + ": " + data.parameter_changes.join(", ") }), $("diff").firstChild);
      }
    }, $("code"));
  }

  function drawCosts(data) {
    var table = clear($("costs"));
    table.appendChild(el("tr", {}, ["Role", "Calls", "Failed", "Input tokens", "Output tokens", "USD"].map(function (h) { return el("th", { text: h }); })));
    if (!data.by_role.length) { table.appendChild(el("tr", {}, [el("td", { colspan: "6", text: "No LLM calls traced in this workspace." })])); return; }
    data.by_role.concat([{ role: "total", calls: data.total.calls, failed_calls: data.total.failed_calls, input_tokens: data.total.input_tokens, output_tokens: data.total.output_tokens, cost_usd: data.total.cost_usd, unpriced_calls: data.total.unpriced_calls }]).forEach(function (r) {
      table.appendChild(el("tr", {}, [el("td", { text: r.role }), el("td", { className: "num", text: r.calls }), el("td", { className: "num", text: r.failed_calls }),
        el("td", { className: "num", text: r.input_tokens }), el("td", { className: "num", text: r.output_tokens }),
        el("td", { className: "num", text: r.cost_usd.toFixed(4) + (r.unpriced_calls ? " (+" + r.unpriced_calls + " unpriced)" : "") })]));
    });
  }

  function setupOutput() {
    $("result-run").addEventListener("change", function () { fillSessions(); loadResults(); });
    $("result-session").addEventListener("change", loadResults);
    $("refresh-results").addEventListener("click", function () { loadWorkspace(); loadResults(); });
    $("pareto-x").addEventListener("change", loadPareto);
    $("pareto-y").addEventListener("change", loadPareto);
    $("code-iteration").addEventListener("change", function () { loadCode(); });
    $("code-file").addEventListener("change", function () { loadCode($("code-file").value); });
  }

  /* --- start ------------------------------------------------------------------------- */

  function start() {
    if (missing.length && (missing.indexOf("XMLHttpRequest") >= 0 || missing.indexOf("JSON") >= 0 || missing.indexOf("document.querySelector") >= 0)) {
      document.body.insertBefore(document.createTextNode("This browser lacks " + missing.join(", ") + ": the studio cannot run in it."), document.body.firstChild);
      return;
    }
    if (missing.length) { message("This browser lacks " + missing.join(", ") + ": those parts of the studio are off."); }
    if (window.history && window.history.replaceState) { window.history.replaceState(null, "", window.location.pathname); }
    setupTabs();
    setupInput();
    setupWorkflow();
    setupOutput();
    window.onerror = function (text) { message("Script error: " + text); };
    loadWorkspace();
    connect();
    drawItems();
  }

  start();
}());
