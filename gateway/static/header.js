// The site header (templates/base.html): who is signed in and Sign out, or Sign in; the
// Venue link only for venue staff and platform admins. Without script, the links stay
// as the server wrote them (Sign in visible).
"use strict";
(function () {
  const nav = document.querySelector(".topbar nav");
  if (!nav) return;
  const part = (name) => nav.querySelector(`[data-nav="${name}"]`);

  async function getJson(path) {
    const response = await fetch(path, { credentials: "same-origin", cache: "no-store",
                                         headers: { "Accept": "application/json" } });
    return response.ok ? response.json() : null;
  }

  async function show() {
    const me = await getJson("/api/me").catch(() => null);
    part("signed-out").hidden = Boolean(me);
    part("signed-in").hidden = !me;
    if (!me) return;
    nav.querySelector(".who").textContent = me.name || me.email;
    // With a name shown, the email beside it says which account (people keep several).
    nav.querySelector(".who-email").textContent = me.name ? me.email : "";
    const venues = me.role === "admin" ? null : await getJson("/api/me/venues").catch(() => null);
    part("staff").hidden = !(me.role === "admin" || (venues && venues.venues.length));
  }

  nav.querySelector("#sign-out").addEventListener("click", async () => {
    // csrf.js adds the X-CSRF-Token header to this cookie-authenticated POST.
    await fetch("/api/auth/logout", { method: "POST", credentials: "same-origin" });
    location.href = "/";
  });

  show();
})();
