// Helpers shared by both dashboards. Data from the services only ever reaches the page through
// textContent, never as markup.
"use strict";

const dash = {
  // An element with a class and a text; children may follow.
  el(tag, className, text, ...children) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const child of children) node.append(child);
    return node;
  },

  // A table row of cells; a cell given as a Node is put in as is.
  row(cells, tag = "td") {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement(tag);
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell === undefined || cell === null ? "" : String(cell);
      tr.append(td);
    }
    return tr;
  },

  table(headers, rows) {
    const table = document.createElement("table");
    const head = document.createElement("thead");
    head.append(dash.row(headers, "th"));
    const body = document.createElement("tbody");
    body.append(...rows);
    table.append(head, body);
    return table;
  },

  pill(text, tone) {
    return dash.el("span", "pill" + (tone ? " " + tone : ""), text);
  },

  // GET a path relative to this page's origin, as JSON, giving up after `timeoutMs`.
  async getJson(path, timeoutMs = 4000) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await fetch(path, { signal: controller.signal, cache: "no-store" });
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        const reason = body && typeof body.error === "string" ? body.error : response.statusText;
        throw new Error(`${response.status} ${reason}`);
      }
      return body;
    } catch (e) {
      throw new Error(e.name === "AbortError" ? `no answer within ${timeoutMs / 1000} s` : e.message);
    } finally {
      clearTimeout(timer);
    }
  },

  // "4.2 s", "3 min 5 s", "2 h 1 min": an age in milliseconds, for people.
  age(ms) {
    const s = Math.max(0, ms) / 1000;
    if (s < 60) return `${s.toFixed(1)} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  },

  clock(date = new Date()) {
    return date.toLocaleTimeString([], { hour12: false });
  },

  replace(id, ...nodes) {
    document.getElementById(id).replaceChildren(...nodes);
  },
};
