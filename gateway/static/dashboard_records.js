// The dashboard's "Records" section (templates/dashboard_records.html): links to the
// event's CSV downloads and its latest audit entries. The drop's stats name its event.
"use strict";
(() => {
  const section = document.getElementById("records");
  if (!section) return;
  const dropId = section.dataset.dropId;
  const RECENT = 10;
  const REFRESH_MS = 15000;
  let eventId = null;

  async function json(path) {
    const response = await fetch(path, {credentials: "same-origin"});
    const body = await response.json();
    if (!response.ok) throw new Error(body.detail || response.statusText);
    return body;
  }

  function cell(text, title) {
    const td = document.createElement("td");
    td.textContent = text;
    if (title) td.title = title;
    return td;
  }

  function details(entry) {
    return Object.entries(entry.details || {})
      .map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : value}`)
      .join(", ");
  }

  function show(entries) {
    const body = document.getElementById("audit-entries");
    body.replaceChildren();
    if (!entries.length) {
      const row = document.createElement("tr");
      const empty = cell("No operator actions yet.");
      empty.colSpan = 4;
      row.append(empty);
      body.append(row);
      return;
    }
    for (const entry of entries) {
      const row = document.createElement("tr");
      const at = new Date(entry.at);
      row.append(cell(at.toLocaleString(), entry.at),
                 cell(entry.actor_email || "system"),
                 cell(entry.action, `${entry.subject_type} ${entry.subject_id}`),
                 cell(details(entry)));
      row.dataset.action = entry.action;
      body.append(row);
    }
  }

  async function refresh() {
    const error = document.getElementById("audit-error");
    try {
      if (eventId === null) {
        eventId = (await json(`/api/drops/${dropId}/stats`)).event_id;
        const base = `/api/events/${eventId}`;
        document.getElementById("orders-csv").href = `${base}/orders.csv`;
        document.getElementById("attendees-csv").href = `${base}/attendees.csv`;
        document.getElementById("audit-csv").href = `${base}/audit?format=csv`;
      }
      show((await json(`/api/events/${eventId}/audit?limit=${RECENT}`)).entries);
      error.textContent = "";
    } catch (problem) {
      error.textContent = `The audit log could not be loaded: ${problem.message}`;
    }
  }

  document.getElementById("audit-refresh").addEventListener("click", refresh);
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
