// The venue event page's edit forms: one for the event's details, one per tier. Each
// form sends only what was changed (PATCH), and its message appears under it. A tier's
// price field is disabled, with the reason beside it, once fans bought or hold seats.
"use strict";
window.venueEdit = (function () {
  function field(form, id, label, attributes, help) {
    const wrap = document.createElement("div");
    wrap.className = attributes.wide ? "col-12 col-md-4" : "col-6 col-md-2";
    const caption = document.createElement("label");
    caption.className = "form-label";
    caption.htmlFor = id;
    caption.textContent = label;
    const input = document.createElement("input");
    input.id = id;
    input.className = "form-control";
    for (const [key, value] of Object.entries(attributes)) if (key !== "wide") input.setAttribute(key, value);
    wrap.append(caption, input);
    if (help) {
      const why = document.createElement("div");
      why.id = `${id}-why`;
      why.className = "form-text";
      why.textContent = help;
      input.setAttribute("aria-describedby", why.id);
      wrap.append(why);
    }
    form.append(wrap);
    return input;
  }

  // One form per tier; save(tierId, changes) sends them, and the caller writes the note.
  function tierForms(container, tiers, save) {
    container.replaceChildren(...tiers.map((tier) => {
      const form = document.createElement("form");
      form.className = "row g-2 align-items-end border-top pt-2 mt-2 tier-edit";
      form.dataset.tierId = tier.id;
      form.setAttribute("aria-labelledby", `tier-edit-${tier.id}-heading`);
      const heading = document.createElement("h4");
      heading.className = "h6 col-12 mb-0";
      heading.id = `tier-edit-${tier.id}-heading`;
      heading.textContent = `${tier.name}: ${tier.sold} sold, ${tier.held} in carts`;
      form.append(heading);
      const prefix = `tier-edit-${tier.id}`;
      const inputs = {
        name: field(form, `${prefix}-name`, "Name", {wide: true, value: tier.name, required: "", maxlength: 100}),
        price_cents: field(form, `${prefix}-price`, `Price (cents, ${tier.currency})`,
          {type: "number", min: 0, value: tier.price_cents, required: ""}, tier.price_locked),
        capacity: field(form, `${prefix}-capacity`, "Capacity",
          {type: "number", min: tier.sold + tier.held, value: tier.capacity, required: ""}),
        per_fan_limit: field(form, `${prefix}-limit`, "Per-fan limit",
          {type: "number", min: 1, max: 100, value: tier.per_fan_limit, required: ""}),
      };
      inputs.price_cents.disabled = Boolean(tier.price_locked);
      const button = document.createElement("div");
      button.className = "col-12 col-md-2";
      button.innerHTML = "<button class=\"btn btn-outline-primary w-100\">Save tier</button>";
      form.append(button);
      const note = document.createElement("p");
      note.id = `${prefix}-note`;
      note.className = "small col-12 mb-0";
      note.setAttribute("role", "status");
      form.append(note);
      form.addEventListener("submit", (submitted) => {
        submitted.preventDefault();
        const changes = {};
        for (const [key, input] of Object.entries(inputs)) {
          if (input.disabled) continue;
          const value = key === "name" ? input.value.trim() : Number(input.value);
          if (value !== tier[key]) changes[key] = value;
        }
        save(tier.id, changes);
      });
      return form;
    }));
    if (!tiers.length) container.textContent = "";
  }

  // The event form's fields from the event, times on the venue's wall clock.
  function fillEvent(form, event, timeZone) {
    form.elements.title.value = event.title;
    form.elements.description.value = event.description;
    form.elements.starts_at.value = venueTime.toLocal(event.starts_at, timeZone);
    form.elements.ends_at.value = venueTime.toLocal(event.ends_at, timeZone);
  }

  return { tierForms, fillEvent };
})();
