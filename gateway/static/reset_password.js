// The mailed reset link's page (/reset?token=...). The token is read once, then dropped
// from the address bar and history, so it is not bookmarked, shared or sent onwards.
// Loading the page changes nothing; the form POSTs the token with the new password
// (gateway/password_reset_api.py). Without a token the page only offers a new link.
"use strict";
(function () {
  const token = new URLSearchParams(location.search).get("token") || "";
  history.replaceState(null, "", location.pathname);
  const form = document.getElementById("reset");
  const button = document.getElementById("reset-button");
  const result = document.getElementById("reset-result");
  const error = document.getElementById("reset-error");

  async function post(path, body) {
    const response = await fetch(path, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    return {ok: response.ok, body: await response.json()};
  }

  if (!token) {
    button.disabled = true;
    error.textContent = "This link has no token; ask for a new link below.";
    document.getElementById("reset-ask").open = true;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = "";
    const password = new FormData(form).get("password");
    const answer = await post("/api/auth/password-reset/confirm", {token, password});
    if (answer.ok) {
      result.textContent = "Your password is changed and every session is signed out. ";
      const link = document.createElement("a");
      link.href = "/login?next=/account";
      link.id = "reset-signin";
      link.textContent = "Sign in with it";
      result.append(link);
    } else {
      error.textContent = answer.body.detail || "The password could not be changed.";
      document.getElementById("reset-ask").open = true;
    }
  });
  document.getElementById("reset-request").addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = new FormData(event.target).get("email");
    const answer = await post("/api/auth/password-reset", {email});
    document.getElementById("reset-request-result").textContent = answer.body.detail;
  });
})();
