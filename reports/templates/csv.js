/* The CSV of the reports' "Export CSV" buttons (base.html, drill.js): lines of cells to CSV text.
   A cell is quoted when it holds a quote, a comma or a line break; text a spreadsheet would run as
   a formula (it begins with = + - @, a tab or a carriage return, and is not a plain number such as
   -12.50) gets a single quote before it. The same rule as reports/csv_safe.py. */
var denialsCsv = (function () {
  var FORMULA = /^[=+@\t\r-]/;
  var NUMBER = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
  function cell(v) {
    v = v == null ? '' : String(v);
    if (FORMULA.test(v) && !NUMBER.test(v)) v = "'" + v;
    return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
  }
  return function (lines) {
    return lines.map(function (l) { return l.map(cell).join(','); }).join('\n');
  };
})();
