// The account page: change the name, the email (verified by link) and the password,
// unlink a connected account, list and end sessions, delete the account.
// Every unsafe request carries the CSRF header (static/csrf.js wraps fetch).
"use strict";
(function () {
  async function call(method, path, body) {
    const init = {method, credentials: "same-origin"};
    if (body !== undefined) {
      init.headers = {"Content-Type": "application/json"};
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const data = await response.json();
    return {ok: response.ok, status: response.status, data};
  }
  function fields(form) { return Object.fromEntries(new FormData(form).entries()); }
  function say(id, text) { document.getElementById(id).textContent = text; }

  // Session ids are 64-bit (start ms << 16 | random bits), past the 2^53 a JS number
  // holds exactly: keep each id as the digits the server sent (JSON.parse source text).
  async function sessionList() {
    const response = await fetch("/api/me/sessions", {credentials: "same-origin"});
    const text = await response.text();
    const data = JSON.parse(text, (key, value, context) =>
      key === "id" && context && typeof context.source === "string" ? context.source : value);
    return {ok: response.ok, data};
  }

  async function loadSessions() {
    const answer = await sessionList();
    const body = document.querySelector("#sessions tbody");
    body.replaceChildren();
    if (!answer.ok) { say("sessions-result", answer.data.detail); return; }
    for (const session of answer.data.sessions) {
      const row = document.createElement("tr");
      row.dataset.sessionId = session.id;
      const since = document.createElement("td");
      since.textContent = new Date(session.created_at).toLocaleString();
      const agent = document.createElement("td");
      agent.textContent = session.user_agent + (session.current ? " (this one)" : "");
      const action = document.createElement("td");
      if (!session.current) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-sm btn-outline-secondary end-session";
        button.textContent = "Sign out";
        button.addEventListener("click", async () => {
          const ended = await call("DELETE", "/api/me/sessions/" + session.id);
          say("sessions-result", ended.ok ? "Signed out." : ended.data.detail);
          await loadSessions();
        });
        action.append(button);
      }
      row.append(since, agent, action);
      body.append(row);
    }
  }

  document.getElementById("password").addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await call("POST", "/api/me/password", fields(event.target));
    say("password-result", answer.ok ? "Password changed; your other sessions are signed out."
                                      : answer.data.detail);
    if (answer.ok) { event.target.reset(); await loadSessions(); }
  });
  document.getElementById("rename").addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await call("PATCH", "/api/me", fields(event.target));
    if (answer.ok) say("account-name", answer.data.name);
    say("rename-result", answer.ok ? "Name changed." : answer.data.detail);
  });
  document.getElementById("email-change").addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await call("POST", "/api/me/email", fields(event.target));
    say("email-change-result", answer.data.detail);
    if (answer.ok) event.target.reset();
  });
  for (const button of document.querySelectorAll("#identities button.unlink")) {
    button.addEventListener("click", async () => {
      const provider = button.dataset.provider;
      const answer = await call("DELETE", "/api/me/oidc/" + encodeURIComponent(provider));
      if (answer.ok) button.closest("tr").remove();
      say("identities-result", answer.ok ? "Unlinked." : answer.data.detail);
    });
  }
  document.getElementById("logout-all").addEventListener("click", async () => {
    const answer = await call("POST", "/api/auth/logout-all");
    if (answer.ok) location.assign("/login?next=/account");
    else say("sessions-result", answer.data.detail);
  });
  const resend = document.getElementById("verify-resend");
  if (resend) {
    resend.addEventListener("click", async () => {
      const answer = await call("POST", "/api/auth/verify-email/resend");
      say("verify-resend-result", answer.data.detail);
    });
  }
  document.getElementById("delete").addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await call("DELETE", "/api/me", fields(event.target));
    if (answer.ok) {
      document.getElementById("delete").replaceChildren();
      const done = document.createElement("p");
      done.id = "deleted";
      done.textContent = "Your account is deleted." + (answer.data.refunded_orders.length
        ? " Refunded orders: " + answer.data.refunded_orders.length + "." : "");
      document.getElementById("delete").append(done);
    } else {
      say("delete-result", answer.data.detail);
    }
  });
  loadSessions();
})();
