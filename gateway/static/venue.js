// Venue tools: list the caller's venues, events and drops; create events, tiers, drops.
"use strict";
const $ = (selector) => document.querySelector(selector);

// api(): static/api.js; venueTime: static/venue_time.js
// The timezone of each venue and event, for the forms' times (the venue's wall clock).
const zoneOfVenue = new Map(), zoneOfEvent = new Map();

function render(venues) {
  const root = $("#venues");
  root.replaceChildren();
  if (!venues.length) { root.textContent = "You are not staff of any venue yet."; }
  const venueOptions = [], eventOptions = [];
  for (const venue of venues) {
    venueOptions.push(new Option(venue.name, venue.id));
    zoneOfVenue.set(String(venue.id), venue.timezone);
    const card = document.createElement("div");
    card.className = "card";
    card.dataset.venueId = venue.id;
    card.innerHTML = `<h2></h2><p class="muted"></p><table><thead><tr><th>Event</th><th>Tiers</th><th>Drops</th><th>Door</th></tr></thead><tbody></tbody></table>`;
    card.querySelector("h2").textContent = venue.name;
    card.querySelector("p").textContent = `${venue.city} · ${venue.timezone} · you are ${venue.role} · ${APPROVAL[venue.approval]}`;
    for (const event of venue.events) {
      eventOptions.push(new Option(`${event.title} (${venue.name})`, event.id));
      zoneOfEvent.set(String(event.id), venue.timezone);
      const row = document.createElement("tr");
      const tiers = event.tiers.map((t) => `${t.name} ${t.capacity}`).join(", ") || "none";
      row.innerHTML = "<td></td><td></td><td></td><td></td>";
      row.children[0].textContent = `${event.title} [${event.status}]`;
      row.children[1].textContent = tiers;
      for (const drop of event.drops) {
        const link = document.createElement("a");
        link.href = `/venue/drops/${drop.id}`;
        link.textContent = `#${drop.id} ${drop.mode} ${drop.state}`;
        row.children[2].append(link, document.createElement("br"));
      }
      row.children[3].append(doorCodes(event, venue.role !== "scanner"));
      card.querySelector("tbody").append(row);
    }
    root.append(card);
    if (venue.role !== "scanner") card.append(staffSection(venue));
  }
  for (const select of document.querySelectorAll("[data-venues]")) select.replaceChildren(...venueOptions.map((o) => o.cloneNode(true)));
  for (const select of document.querySelectorAll("[data-events]")) select.replaceChildren(...eventOptions.map((o) => o.cloneNode(true)));
}

// Printed codes (PDF) or only the phone's rotating code: see docs/scanner.md.
function doorCodes(event, canChange) {
  const label = event.static_codes_allowed ? "printed + phone codes" : "phone code only";
  if (!canChange) return document.createTextNode(label);
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.title = event.static_codes_allowed ? "Refuse printed tickets (PDF) at the door"
                                            : "Accept printed tickets (PDF) at the door";
  button.addEventListener("click", async () => {
    $("#error").textContent = "";
    try {
      await api(`/api/events/${event.id}/door-codes`, {method: "PUT",
        body: JSON.stringify({static_codes_allowed: !event.static_codes_allowed})});
      await refresh();
    } catch (error) { $("#error").textContent = error.message; }
  });
  return button;
}

const APPROVAL = {
  approved: "approved",
  pending: "waiting for a platform admin's approval: events stay drafts until then",
  rejected: "not approved: events cannot be published",
};

// A venue's staff tools: invite by email, see and revoke pending invitations; a platform
// admin also sees Approve on a pending venue.
function staffSection(venue) {
  const section = document.createElement("div");
  section.className = "staff";
  section.innerHTML = `<h3>Staff invitations</h3><ul class="pending"></ul>
    <form class="stack invite"><label>Email <input name="email" type="email" required></label>
    <label>Role <select name="role"><option value="scanner">Door scanner</option><option value="venue_admin">Venue admin</option></select></label>
    <button>Invite</button></form>`;
  if (venue.role === "admin" && venue.approval !== "approved") {
    const approve = document.createElement("button");
    approve.className = "approve";
    approve.textContent = "Approve this venue";
    approve.addEventListener("click", () => act(`/api/venues/${venue.id}/approve`, "POST"));
    section.prepend(approve);
  }
  section.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(new FormData(event.target).entries());
    await act(`/api/venues/${venue.id}/staff`, "POST", body);
  });
  api(`/api/venues/${venue.id}/invitations`).then(({invitations}) => {
    const list = section.querySelector("ul.pending");
    if (!invitations.length) list.textContent = "No pending invitations.";
    for (const invitation of invitations) {
      const item = document.createElement("li");
      item.textContent = `${invitation.email} as ${invitation.role} (until ${new Date(invitation.expires_at).toLocaleDateString()}) `;
      const revoke = document.createElement("button");
      revoke.textContent = "Revoke";
      revoke.addEventListener("click", () => act(`/api/venues/${venue.id}/invitations/${invitation.id}`, "DELETE"));
      item.append(revoke);
      list.append(item);
    }
  }).catch(showError);
  return section;
}

// The invitation email links to /venue#invitation=<id>&token=<token>: the token stays in
// the fragment, which the browser never sends to a server.
function linkFromEmail() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  return {id: Number(fragment.get("invitation")), token: fragment.get("token")};
}

function renderMyInvitations(invitations) {
  const section = $("#my-invitations");
  const list = section.querySelector("ul");
  list.replaceChildren();
  section.hidden = !invitations.length;
  const link = linkFromEmail();
  for (const invitation of invitations) {
    const item = document.createElement("li");
    item.textContent = `${invitation.venue.name} (${invitation.venue.city}) invites you as ${invitation.role} `;
    if (link.id === invitation.id && link.token) {
      const accept = document.createElement("button");
      accept.className = "accept";
      accept.textContent = "Accept";
      accept.addEventListener("click", async () => {
        await act(`/api/invitations/${invitation.id}/accept`, "POST", {token: link.token});
        history.replaceState(null, "", location.pathname);
      });
      item.append(accept);
    }
    const decline = document.createElement("button");
    decline.className = "decline";
    decline.textContent = "Decline";
    decline.addEventListener("click", () => act(`/api/invitations/${invitation.id}/decline`, "POST"));
    item.append(decline);
    list.append(item);
  }
}

function showError(error) { $("#error").textContent = error.message; }

async function act(url, method, body) {
  $("#error").textContent = "";
  try {
    await api(url, body === undefined ? {method} : {method, body: JSON.stringify(body)});
    await refresh();
  } catch (error) { showError(error); }
}

async function refresh() {
  const [venues, mine] = await Promise.all([api("/api/me/venues"), api("/api/me/invitations")]);
  renderMyInvitations(mine.invitations);
  render(venues.venues);
}

function formBody(form, numbers, times, timeZone) {
  const data = Object.fromEntries(new FormData(form).entries());
  for (const key of times) data[key] = venueTime.toIso(data[key], timeZone);
  for (const key of numbers) data[key] = Number(data[key]);
  return data;
}

function onSubmit(id, build, path) {
  $(id).addEventListener("submit", async (event) => {
    event.preventDefault();
    $("#error").textContent = "";
    try {
      const [url, body] = build(event.target);
      await api(url, {method: "POST", body: JSON.stringify(body)});
      await refresh();
    } catch (error) { $("#error").textContent = error.message; }
  });
}

onSubmit("#new-event", (form) => {
  const body = formBody(form, ["venue_id"], ["starts_at", "ends_at"],
                       zoneOfVenue.get(form.venue_id.value));
  body.published = form.published.checked;
  return ["/api/events", body];
});
onSubmit("#new-tier", (form) => {
  const body = formBody(form, ["price_cents", "capacity", "per_fan_limit"], []);
  const eventId = body.event_id; delete body.event_id;
  return [`/api/events/${eventId}/tiers`, body];
});
onSubmit("#new-drop", (form) => [
  "/api/drops",
  formBody(form, ["event_id", "admit_per_minute", "max_active", "session_seconds"],
           ["prequeue_opens_at", "opens_at", "closes_at"], zoneOfEvent.get(form.event_id.value)),
]);

refresh().catch((error) => { $("#error").textContent = error.message; });
