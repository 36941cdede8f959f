// A venue's staff tools on its card: who works there (with Remove), pending invitations
// (with Revoke), an invite form with its own note; a platform admin also sees Approve.
"use strict";
// api(): static/api.js; venueNote: static/venue_notes.js
window.venueStaffSection = function (venue, act) {
  const section = document.createElement("div");
  section.className = "staff mt-3";
  section.innerHTML = `<h3 class="h6">Staff</h3><ul class="members list-unstyled small"></ul>
    <h3 class="h6">Staff invitations</h3><ul class="pending list-unstyled small"></ul>
    <form class="row g-2 align-items-end invite">
      <div class="col-12 col-md-5"><label class="form-label">Email <input class="form-control" name="email" type="email" required></label></div>
      <div class="col-12 col-md-4"><label class="form-label">Role <select class="form-select" name="role"><option value="scanner">Door scanner</option><option value="venue_admin">Venue admin</option></select></label></div>
      <div class="col-12 col-md-3"><button class="btn btn-outline-primary w-100">Invite</button></div>
      <p class="small col-12 mb-0" role="status" data-note></p></form>`;
  const note = section.querySelector("[data-note]");
  if (venue.role === "admin" && venue.approval !== "approved") {
    const approve = document.createElement("button");
    approve.type = "button";
    approve.className = "btn btn-success btn-sm approve mb-2";
    approve.textContent = "Approve this venue";
    approve.addEventListener("click", () => act(`/api/venues/${venue.id}/approve`, "POST"));
    section.prepend(approve);
  }
  section.querySelector("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(new FormData(event.target).entries());
    try {
      await api(`/api/venues/${venue.id}/staff`, {method: "POST", body: JSON.stringify(body)});
      venueNote(note, true, `Invitation emailed to ${body.email}.`);
      event.target.reset();
      await listInvitations();
    } catch (error) { venueNote(note, false, error.message); }
  });

  function button(label, className, onClick) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = `btn btn-link btn-sm p-0 ms-2 ${className}`;
    element.textContent = label;
    element.addEventListener("click", onClick);
    return element;
  }

  async function listInvitations() {
    const {invitations} = await api(`/api/venues/${venue.id}/invitations`);
    const list = section.querySelector("ul.pending");
    list.replaceChildren();
    if (!invitations.length) list.append(Object.assign(document.createElement("li"), {textContent: "No pending invitations."}));
    for (const invitation of invitations) {
      const item = document.createElement("li");
      item.textContent = `${invitation.email} as ${invitation.role} (until ${new Date(invitation.expires_at).toLocaleDateString()}) `;
      item.append(button("Revoke", "revoke", () => act(`/api/venues/${venue.id}/invitations/${invitation.id}`, "DELETE")));
      list.append(item);
    }
  }

  async function listMembers() {
    const {staff} = await api(`/api/venues/${venue.id}/staff`);
    const list = section.querySelector("ul.members");
    list.replaceChildren();
    if (!staff.length) list.append(Object.assign(document.createElement("li"), {textContent: "Nobody yet."}));
    for (const member of staff) {
      const item = document.createElement("li");
      item.dataset.userId = member.user_id;
      item.textContent = `${member.name || member.email} <${member.email}> · ${member.role === "venue_admin" ? "venue admin" : "door scanner"}`;
      item.append(button("Remove", "remove", async () => {
        if (!confirm(`Remove ${member.email} from ${venue.name}'s staff?`)) return;
        try {
          await api(`/api/venues/${venue.id}/staff/${member.user_id}`, {method: "DELETE"});
          venueNote(note, true, `${member.email} removed.`);
          await listMembers();
        } catch (error) { venueNote(note, false, error.message); }
      }));
      list.append(item);
    }
  }

  listInvitations().catch((error) => venueNote(note, false, error.message));
  listMembers().catch((error) => venueNote(note, false, error.message));
  return section;
};
