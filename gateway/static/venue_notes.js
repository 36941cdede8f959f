// Success and error messages of the venue's forms, printed next to the form that caused
// them (a role="status" paragraph under it), never in one banner at the top of the page.
"use strict";
window.venueNote = function (element, ok, text) {
  element.classList.remove("text-success", "text-danger");
  element.classList.add(ok ? "text-success" : "text-danger");
  element.textContent = text;
};
