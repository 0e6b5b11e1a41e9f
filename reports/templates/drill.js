/* The claim-level drill-down (reports/html.py drill_table): its rows come as JSON in the page and
   at most LIMIT of them are drawn at a time; sorting, the text filter and CSV export work on all.
   A click on a chart point, bar or cell (Plotly's plotly_click) or on a table row carrying
   data-drill filters the rows to the claims behind that number and scrolls to them. */
(function () {
  var table = document.querySelector('table.drill-table');
  if (!table) return;
  var cfg = JSON.parse(document.getElementById(table.id + '-data').textContent);
  var section = table.closest('section');
  var bar = section.querySelector('.drill-bar');
  var cols = cfg.columns, rows = cfg.rows, keyAt = cols.length;
  var at = {};
  cols.forEach(function (c, i) { at[c.key] = i; });
  var LIMIT = 300;
  var FIELDS = { payer: 'payer_name', category: 'category', department: 'department', week: 'iso_week' };
  var NAMES = { payer: 'payer', category: 'root cause', reason: 'reason', department: 'department', week: 'week' };
  var state = { filter: null, query: '', sort: -1, asc: true };
  var money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
  var count = new Intl.NumberFormat('en-US');

  function show(v, f) {
    if (v === null || v === undefined) return '';
    if (f === 'money') return money.format(v);
    if (f === 'int') return count.format(v);
    if (f === 'pct') return (v * 100).toFixed(1) + '%';
    return String(v);
  }

  function matches(r, f) {
    if (!f) return true;
    for (var k in FIELDS) {
      if (f[k] != null && r[at[FIELDS[k]]] !== f[k]) return false;
    }
    if (f.reason != null && (' ' + (r[at.reasons] || '') + ' ').indexOf(' ' + f.reason + ' ') < 0) return false;
    var w = r[at.iso_week];
    if (f.from && w < f.from) return false;
    if (f.to && w > f.to) return false;
    return true;
  }

  function selected() {
    var q = state.query;
    var out = rows.filter(function (r) {
      return matches(r, state.filter) && (!q || r.slice(0, keyAt).join(' ').toLowerCase().indexOf(q) >= 0);
    });
    if (state.sort >= 0) {
      var i = state.sort, num = cols[i].format !== 'text', dir = state.asc ? 1 : -1;
      out.sort(function (a, b) {
        var x = a[i], y = b[i];
        if (num) { x = x === null ? -Infinity : x; y = y === null ? -Infinity : y; } else { x = (x || '').toLowerCase(); y = (y || '').toLowerCase(); }
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
    }
    return out;
  }

  function describe(f) {
    if (!f) return cfg.scope;
    var parts = [];
    ['payer', 'category', 'reason', 'department', 'week'].forEach(function (k) {
      if (f[k] != null) parts.push(NAMES[k] + ' ' + f[k]);
    });
    if (f.week == null && (f.from || f.to)) parts.push('weeks ' + (f.from || '…') + ' to ' + (f.to || '…'));
    return 'Filtered by ' + parts.join(' · ');
  }

  function render() {
    var list = selected();
    var seen = {}, claims = 0, dollars = 0;
    list.forEach(function (r) {
      if (!seen[r[keyAt]]) { seen[r[keyAt]] = true; claims++; }
      dollars += r[at.denied_amount] || 0;
    });
    var frag = document.createDocumentFragment();
    list.slice(0, LIMIT).forEach(function (r) {
      var tr = document.createElement('tr');
      cols.forEach(function (c, i) {
        var td = document.createElement('td');
        if (c.format !== 'text') td.className = 'num';
        td.setAttribute('data-value', r[i] === null ? '' : String(r[i]));
        td.textContent = show(r[i], c.format);
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    });
    var body = table.tBodies[0];
    body.textContent = '';
    body.appendChild(frag);
    table.setAttribute('data-claims', claims);
    table.setAttribute('data-rows', list.length);
    var f = state.filter;
    bar.classList.toggle('active', !!f);
    bar.querySelector('.drill-desc').textContent = describe(f);
    bar.querySelector('.drill-count').textContent = '— ' + count.format(claims) + (claims === 1 ? ' claim' : ' claims') + ', ' +
      money.format(dollars) + ' denied' + (list.length !== claims ? ' (' + count.format(list.length) + ' rows)' : '');
    bar.querySelector('.drill-clear').hidden = !f;
    var back = bar.querySelector('.drill-back');
    back.hidden = !(f && f.source);
    if (f && f.source) back.setAttribute('href', '#' + f.source);
    section.querySelector('.drill-more').textContent = list.length > LIMIT
      ? 'Showing the first ' + LIMIT + ' of ' + count.format(list.length) + ' rows; Export CSV writes them all.' : '';
  }

  function apply(f, scroll) {
    state.filter = f;
    render();
    if (scroll) section.scrollIntoView();
  }

  bar.querySelector('.drill-clear').addEventListener('click', function () { apply(null, false); });
  section.querySelector('input[data-drill-search]').addEventListener('input', function (e) {
    state.query = e.target.value.toLowerCase();
    render();
  });
  table.querySelectorAll('th').forEach(function (th, i) {
    th.addEventListener('click', function () {
      state.asc = state.sort === i ? !state.asc : true;
      state.sort = i;
      table.querySelectorAll('th').forEach(function (h) { h.classList.remove('sorted-asc', 'sorted-desc'); });
      th.classList.add(state.asc ? 'sorted-asc' : 'sorted-desc');
      render();
    });
  });
  section.querySelector('button[data-drill-export]').addEventListener('click', function () {
    var lines = [cols.map(function (c) { return c.label; })];
    selected().forEach(function (r) { lines.push(r.slice(0, keyAt)); });
    var csv = denialsCsv(lines);  // csv.js, included by base.html
    var a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    a.download = table.id + '.csv';
    document.body.appendChild(a); a.click(); a.remove();
  });

  document.querySelectorAll('tr[data-drill]').forEach(function (tr) {
    function go() { apply(JSON.parse(tr.getAttribute('data-drill')), true); }
    tr.addEventListener('click', go);
    tr.addEventListener('keydown', function (e) { if (e.key === 'Enter') go(); });
  });

  Object.keys(cfg.charts).forEach(function (id) {
    var gd = document.getElementById(id), c = cfg.charts[id];
    if (!gd || !gd.on) return;
    gd.classList.add('drillable');
    gd.on('plotly_click', function (ev) {
      var p = ev && ev.points && ev.points[0];
      if (!p || p.customdata == null) return;
      var f = { source: c.source };
      if (c.kind === 'trend') {
        f.week = p.customdata[2];
        if (p.data.name !== c.all) f.payer = p.data.name;
      } else if (c.kind === 'category') {
        f.category = p.customdata[1];
      } else if (c.kind === 'payer-category') {
        f.payer = p.y;
        f.category = p.customdata;
      }
      if (c.from) f.from = c.from;
      if (c.to) f.to = c.to;
      apply(f, true);
    });
  });

  render();
  window.denialsDrill = { apply: apply };
})();
