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

  loginForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await post("/api/auth/login", fields(event.target)); location.assign(destination); }
    catch (error) { showError(error); }
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
