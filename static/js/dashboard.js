// Draws the dashboard charts from the JSON the page embeds (json_script):
// the tables next to them hold the same numbers.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colours = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545"];
  var common = { responsive: true, maintainAspectRatio: false, animation: false };

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }

  // The week holding today is not over (its later calls are not due yet):
  // the line to it is dashed and its point hollow, so a "so far" figure is
  // not read as a collapse.
  var partial = data.weeks.partial || [];
  function partialPoint(ctx) { return partial[ctx.dataIndex] === true; }
  draw("chart-weeks", {
    type: "line",
    data: {
      labels: data.weeks.labels,
      datasets: data.weeks.series.map(function (s, i) {
        return {
          label: s.label, data: s.data, borderColor: colours[i], backgroundColor: colours[i], spanGaps: true,
          pointBackgroundColor: function (ctx) { return partialPoint(ctx) ? "#ffffff" : colours[i]; },
          pointRadius: function (ctx) { return partialPoint(ctx) ? 5 : 3; },
          segment: { borderDash: function (ctx) { return partial[ctx.p1DataIndex] ? [6, 4] : undefined; } }
        };
      })
    },
    options: Object.assign({}, common, {
      scales: { y: { min: 0, max: 100, title: { display: true, text: data.weeks.axis } } }
    })
  });

  draw("chart-items", {
    type: "bar",
    data: {
      labels: data.items.labels,
      datasets: data.items.series.map(function (s, i) {
        return { label: s.label, data: s.data, backgroundColor: colours[i] };
      })
    },
    options: Object.assign({}, common, {
      indexAxis: "y",
      scales: { x: { min: 0, max: 10, title: { display: true, text: data.items.axis } } }
    })
  });

  draw("chart-boxes", {
    type: "doughnut",
    data: {
      labels: data.boxes.labels,
      datasets: [{ data: data.boxes.data, backgroundColor: [colours[1], colours[2], colours[4]] }]
    },
    options: common
  });

  // Charts redraw at the printed page's size.
  window.addEventListener("beforeprint", function () {
    Object.values(Chart.instances).forEach(function (chart) { chart.resize(); });
  });
})();

(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  var canvas = document.getElementById("chart-complaints");
  if (!source || !canvas || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent).complaints;
  new Chart(canvas, {
    type: "bar",
    data: { labels: data.labels, datasets: [{ label: data.label, data: data.data, backgroundColor: "#dc3545" }] },
    options: { responsive: true, maintainAspectRatio: false, animation: false, indexAxis: "y",
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
})();
