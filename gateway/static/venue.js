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
    card.className = "card mb-3";
    card.dataset.venueId = venue.id;
    card.innerHTML = `<div class="card-body"><h2 class="h5"></h2><p class="small text-body-secondary"></p><div class="table-responsive" tabindex="0" role="region" aria-label="Events, scrolls sideways"><table class="table table-sm align-middle"><thead><tr><th scope="col">Event</th><th scope="col">Tiers</th><th scope="col">Drops</th><th scope="col">Door</th></tr></thead><tbody></tbody></table></div></div>`;
    card.querySelector("h2").textContent = venue.name;
    card.querySelector("p").textContent = `${venue.city} · ${venue.timezone} · you are ${venue.role} · ${APPROVAL[venue.approval]}`;
    for (const event of venue.events) {
      eventOptions.push(new Option(`${event.title} (${venue.name})`, event.id));
      zoneOfEvent.set(String(event.id), venue.timezone);
      const row = document.createElement("tr");
      const tiers = event.tiers.map((t) => `${t.name} ${t.capacity}`).join(", ") || "none";
      row.innerHTML = "<td></td><td></td><td></td><td></td>";
      row.children[0].textContent = `${event.title} [${event.status}]`;
      if (venue.role !== "scanner") {
        // A button, not a link: the cell's links are the drops' dashboards.
        const manage = document.createElement("button");
        manage.type = "button";
        manage.className = "btn btn-outline-primary btn-sm d-block mt-1 manage";
        manage.textContent = "Manage";
        manage.setAttribute("aria-label", `Manage ${event.title}`);
        manage.addEventListener("click", () => { location.href = `/venue/events/${event.id}`; });
        row.children[0].append(manage);
      }
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
    if (venue.role !== "scanner") card.querySelector(".card-body").append(venueStaffSection(venue, act));
  }
  for (const select of document.querySelectorAll("[data-venues]")) select.replaceChildren(...venueOptions.map((o) => o.cloneNode(true)));
  // Pickers keep their choice across refreshes, and follow the event just created.
  for (const select of document.querySelectorAll("[data-events]")) {
    const kept = keptEvent || select.value;
    select.replaceChildren(...eventOptions.map((o) => o.cloneNode(true)));
    if (kept && eventOptions.some((option) => option.value === String(kept))) select.value = String(kept);
  }
  keptEvent = null;
}

let keptEvent = null;  // the id of the event the event form just created

// Printed codes (PDF) or only the phone's rotating code: see docs/scanner.md.
function doorCodes(event, canChange) {
  const label = event.static_codes_allowed ? "printed + phone codes" : "phone code only";
  if (!canChange) return document.createTextNode(label);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-outline-secondary btn-sm";
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
      accept.className = "btn btn-primary btn-sm ms-2 accept";
      accept.textContent = "Accept";
      accept.addEventListener("click", async () => {
        await act(`/api/invitations/${invitation.id}/accept`, "POST", {token: link.token});
        history.replaceState(null, "", location.pathname);
      });
      item.append(accept);
    }
    const decline = document.createElement("button");
    decline.className = "btn btn-outline-secondary btn-sm ms-2 decline";
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

// A form's outcome is printed in its own note, under it.
function onSubmit(id, build, done) {
  $(id).addEventListener("submit", async (event) => {
    event.preventDefault();
    const note = event.target.querySelector("[data-note]");
    try {
      const [url, body] = build(event.target);
      const created = await api(url, {method: "POST", body: JSON.stringify(body)});
      venueNote(note, true, done(created));
      await refresh();
    } catch (error) { venueNote(note, false, error.message); }
  });
}

onSubmit("#new-event", (form) => {
  const body = formBody(form, ["venue_id"], ["starts_at", "ends_at"],
                       zoneOfVenue.get(form.venue_id.value));
  body.published = form.published.checked;
  return ["/api/events", body];
}, (event) => {
  keptEvent = event.id;
  return `Event "${event.title}" created (${event.status}); add its tiers and drop below.`;
});
onSubmit("#new-tier", (form) => {
  const body = formBody(form, ["price_cents", "capacity", "per_fan_limit"], []);
  const eventId = body.event_id; delete body.event_id;
  return [`/api/events/${eventId}/tiers`, body];
}, (tier) => `Tier "${tier.name}" added.`);
onSubmit("#new-drop", (form) => [
  "/api/drops",
  formBody(form, ["event_id", "admit_per_minute", "max_active", "session_seconds", "hold_seconds"],
           ["prequeue_opens_at", "opens_at", "closes_at"], zoneOfEvent.get(form.event_id.value)),
], (drop) => `Drop #${drop.id} scheduled: its dashboard is linked in the event's row.`);

refresh().catch((error) => { $("#error").textContent = error.message; });
