// Draws the dashboard's panels with Chart.js (vendored in static/vendor/chartjs). The data
// comes from the page (json_script); a click on a bar or a point opens the rows behind it.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || !window.Chart) { return; }
  var charts = JSON.parse(source.textContent);
  var colours = ["#1f6feb", "#d29922", "#cf222e", "#2da44e", "#8250df", "#6e7781"];
  window.dashboardCharts = {};
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = charts[Number(canvas.dataset.chart)];
    var chart = new window.Chart(canvas, {
      type: spec.kind === "line" ? "line" : "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (s, i) {
          var colour = s.colour || colours[i % colours.length];
          return { label: s.label, data: s.values, backgroundColor: colour, borderColor: colour };
        })
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true, title: { display: !!spec.unit, text: spec.unit },
                       // counts of things are whole numbers; shares may be fractions
                       ticks: { precision: spec.unit === "%" ? undefined : 0 } } },
        onHover: function (event, elements) {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        },
        onClick: function (event, elements) {
          if (!elements.length) { return; }
          var e = elements[0];
          var url = spec.series[e.datasetIndex].urls[e.index];
          if (url) { window.location.href = url; }
        }
      }
    });
    window.dashboardCharts[spec.key] = chart;
    canvas.dataset.drawn = "true";
  });
})();
