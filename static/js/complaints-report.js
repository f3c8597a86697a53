// Pie charts of the quarterly complaint analysis. The figures come from
// <script type="application/json"> blocks written by the template.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  document.querySelectorAll("canvas[data-chart-source]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chartSource);
    if (!source) { return; }
    var rows = JSON.parse(source.textContent);
    if (!rows.length) { canvas.hidden = true; return; }
    new Chart(canvas, {
      type: "pie",
      data: {
        labels: rows.map(function (r) { return r.label; }),
        datasets: [{ data: rows.map(function (r) { return r.count; }) }]
      },
      options: { plugins: { legend: { position: "right" } }, animation: false }
    });
  });
})();
