'use strict';
// The trace types the reports draw (scatter is in the core), and the calendars component that
// every official plotly.js bundle has. Add a trace here (and to BUNDLE_TRACE_TYPES in
// reports/html.py) before a report uses it.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/calendars'),
]);

module.exports = Plotly;
