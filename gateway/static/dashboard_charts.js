// The dashboard's live charts (uPlot, from npm): sampled by this page from its own 2 s
// poll of /api/drops/{id}/stats and /api/events/{id}/sales, so no history API is needed;
// a chart starts when the page opens (docs/operating-a-drop.md says so).
"use strict";
window.dashboardCharts = (function () {
  const MAX_POINTS = 1800;  // one hour at one sample every 2 s
  const COLOURS = ["#0d6efd", "#dc3545", "#198754", "#6f42c1", "#fd7e14", "#0dcaf0"];
  const charts = {};
  let timeZone = "UTC";

  function width(element) { return Math.max(260, element.clientWidth || 300); }

  // One chart: x = time (s), one series per label; data kept as uPlot's column arrays.
  function chart(id, labels) {
    const key = `${id}:${labels.join("|")}`;
    if (charts[id]?.key === key) return charts[id];
    const element = document.getElementById(id);
    charts[id]?.plot.destroy();
    const series = [{}, ...labels.map((label, index) => ({
      label, stroke: COLOURS[index % COLOURS.length], width: 2,
      dash: label.startsWith("configured") ? [6, 4] : undefined,
    }))];
    const data = [[], ...labels.map(() => [])];
    const plot = new uPlot({
      width: width(element), height: 200, series,
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), timeZone),
      scales: {x: {time: true}}, axes: [{}, {size: 50}],
    }, data, element);
    charts[id] = {key, plot, data};
    return charts[id];
  }

  function push(id, labels, values, seconds) {
    const entry = chart(id, labels);
    entry.data[0].push(seconds);
    values.forEach((value, index) => entry.data[index + 1].push(value));
    if (entry.data[0].length > MAX_POINTS) for (const column of entry.data) column.shift();
    entry.plot.setData(entry.data);
  }

  const now = () => Math.round(Date.now() / 1000);

  return {
    setTimeZone(zone) { timeZone = zone; },
    queue(queue) {
      const seconds = now();
      push("chart-line", ["waiting", "pre-queue"], [queue.waiting, queue.prequeue], seconds);
      push("chart-rate", ["observed / min", "configured / min"],
           [queue.observed_admit_per_minute, queue.configured_admit_per_minute], seconds);
    },
    sales(sales) {
      const seconds = now();
      const tiers = sales.tiers || [];
      push("chart-sales", tiers.map((tier) => tier.name), tiers.map((tier) => tier.sold), seconds);
      const revenue = sales.revenue || [];
      const currencies = revenue.length ? revenue.map((entry) => entry.currency)
                                        : [tiers[0]?.currency || "EUR"];
      push("chart-revenue", currencies, currencies.map((code) =>
        (revenue.find((entry) => entry.currency === code)?.revenue_cents || 0) / 100), seconds);
    },
    resize() {
      for (const {plot} of Object.values(charts)) {
        plot.setSize({width: width(plot.root.parentElement), height: 200});
      }
    },
  };
})();
window.addEventListener("resize", () => window.dashboardCharts.resize());
