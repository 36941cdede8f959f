// Amounts the server printed as "1,500 JPY" are re-printed in the reader's locale with
// Intl.NumberFormat, which knows each currency's decimals (JPY none, EUR two, KWD three).
// Elements carry data-money="<minor units>" data-currency="<ISO code>".
"use strict";
window.ticketqMoney = (function () {
  function format(minorUnits, currency) {
    const formatter = new Intl.NumberFormat(undefined, { style: "currency", currency });
    const digits = formatter.resolvedOptions().maximumFractionDigits;
    return formatter.format(Number(minorUnits) / 10 ** digits);
  }
  function reprint(root) {
    for (const element of (root || document).querySelectorAll("[data-money][data-currency]")) {
      try { element.textContent = format(element.dataset.money, element.dataset.currency); }
      catch (error) { /* an unknown code: keep the server's text */ }
    }
  }
  document.addEventListener("DOMContentLoaded", () => reprint(document));
  return { format, reprint };
})();
