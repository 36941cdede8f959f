// Sign-in page: sign in (or sign up, then in) and go back to data-next, a path the
// server checked (gateway/pages_api.py safe_next); never to the raw ?next= value.
"use strict";
(function () {
  const loginForm = document.getElementById("login");
  const destination = loginForm.dataset.next || "/";

  async function post(path, body) {
    const response = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                                        body: JSON.stringify(body), credentials: "same-origin"});
    const data = await response.json();
    if (!response.ok) throw new Error(data.detail || response.statusText);
    return data;
  }
  function fields(form) { return Object.fromEntries(new FormData(form).entries()); }
  function showError(error) { document.getElementById("login-error").textContent = error.message; }

  // With two-factor authentication the password earns a challenge, not a session: ask for
  // a code and answer it at /api/auth/login/totp (gateway/totp_api.py).
  const totpForm = document.getElementById("login-totp");
  let challenge = null;
  loginForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await post("/api/auth/login", fields(event.target));
      if (answer.totp_required) {
        challenge = answer.challenge;
        loginForm.hidden = true;
        totpForm.hidden = false;
        totpForm.elements.code.focus();
        return;
      }
      location.assign(destination);
    } catch (error) { showError(error); }
  });
  totpForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await post("/api/auth/login/totp", {challenge, code: fields(event.target).code});
      location.assign(destination);
    } catch (error) { document.getElementById("login-totp-error").textContent = error.message; }
  });
  document.getElementById("signup").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = fields(event.target);
    try {
      await post("/api/auth/signup", body);
      await post("/api/auth/login", {email: body.email, password: body.password});
      location.assign(destination);
    } catch (error) { showError(error); }
  });
})();
