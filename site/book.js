// The course site's behaviour: copy buttons on code cells, framework tabs, the search box,
// and the contents folded on narrow screens (they stay open without JavaScript).
(function () {
  'use strict';

  // A page opened as a file:// URL, or an old browser, has no async clipboard: fall back
  // to a selected textarea and execCommand.
  function copyWithSelection(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (err) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error('copy refused'));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyWithSelection(text);
      });
    }
    return copyWithSelection(text);
  }

  function addCopyButton(editor) {
    var pre = editor.querySelector('pre');
    if (!pre) { return; }
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'd2l-copy';
    button.textContent = 'Copy';
    button.setAttribute('aria-label', 'Copy this code');
    button.addEventListener('click', function () {
      // Pygments ends the block with a newline the cell does not have
      copy(pre.textContent.replace(/\n$/, '')).then(function () {
        button.textContent = 'Copied';
      }, function () {
        button.textContent = 'Press Ctrl+C';
        window.getSelection().selectAllChildren(pre);
      });
      setTimeout(function () { button.textContent = 'Copy'; }, 2000);
    });
    editor.appendChild(button);
  }

  document.querySelectorAll('.jp-CodeCell .jp-InputArea-editor').forEach(addCopyButton);

  // Framework tabs (builder/tabs.py): the page's head chose a framework before it was drawn
  // and hides the others' cells; here each run of framework cells gets a bar to choose with.
  // A choice switches every bar, is remembered (localStorage) and put in the page's address
  // (?framework=), so that a copied link opens in the same framework.
  var frameworks = window.d2lFrameworks || {};
  var storageKey = window.d2lFrameworkKey;

  function frameworkOf(cell) {
    var match = / celltag_tab-(?!same\b)(\S+)/.exec(' ' + cell.className);
    return match ? match[1] : null;
  }

  function withFramework(href, framework) {
    var url = new URL(href, location.href);
    url.searchParams.set('framework', framework);
    return url;
  }

  function choose(framework, keep) {
    var before = keep ? keep.getBoundingClientRect().top : 0;
    document.documentElement.setAttribute('data-framework', framework);
    try { localStorage.setItem(storageKey, framework); } catch (err) { /* refused: the address keeps it */ }
    document.querySelectorAll('.d2l-tabs button').forEach(function (button) {
      button.setAttribute('aria-selected', String(button.dataset.framework === framework));
    });
    if (keep && history.replaceState) {  // a reader's choice, not the page's first draw
      history.replaceState(null, '', withFramework(location.href, framework).href);
    }
    if (keep) {  // the bar clicked stays where it was, though the cells above it changed
      window.scrollBy(0, keep.getBoundingClientRect().top - before);
    }
  }

  function tabBar(present) {
    var bar = document.createElement('div');
    bar.className = 'd2l-tabs';
    bar.setAttribute('role', 'tablist');
    bar.setAttribute('aria-label', 'Framework');
    Object.keys(frameworks).forEach(function (framework) {
      if (present.indexOf(framework) < 0) { return; }
      var button = document.createElement('button');
      button.type = 'button';
      button.setAttribute('role', 'tab');
      button.dataset.framework = framework;
      button.textContent = frameworks[framework];
      button.addEventListener('click', function () { choose(framework, bar); });
      bar.appendChild(button);
    });
    bar.addEventListener('keydown', function (event) {  // the arrows move along a tab list
      var step = {ArrowRight: 1, ArrowLeft: -1}[event.key];
      if (!step) { return; }
      var buttons = Array.prototype.slice.call(bar.querySelectorAll('button'));
      var next = buttons[(buttons.indexOf(document.activeElement) + step + buttons.length) % buttons.length];
      next.focus();
      next.click();
      event.preventDefault();
    });
    return bar;
  }

  // A run of cells whose code is the same in each tab (celltag_tab-same) needs no bar: its
  // outputs follow the choice made anywhere on the page.
  // A run starts at its first cell whose code differs, so that the bar stands over it; the
  // run's cells get a rule at their side that shows where it ends.
  var runStart = null, present = [], differs = false, members = [];
  function closeRun() {
    if (runStart && present.length > 1 && differs) {
      runStart.parentNode.insertBefore(tabBar(present), runStart);
      members.forEach(function (cell) { cell.classList.add('d2l-tabbed'); });
    }
    runStart = null;
    present = [];
    differs = false;
    members = [];
  }
  document.querySelectorAll('.jp-Notebook > .jp-Cell, main > .jp-Cell').forEach(function (cell) {
    var framework = frameworkOf(cell);
    if (!framework) { closeRun(); return; }
    var same = cell.classList.contains('celltag_tab-same');
    var previous = cell.previousElementSibling;
    if (runStart && (!previous || !frameworkOf(previous))) { closeRun(); }
    if (!runStart && same) { return; }  // no bar over code that is the same in each tab
    if (!runStart) { runStart = cell; }
    if (present.indexOf(framework) < 0) { present.push(framework); }
    differs = differs || !same;
    members.push(cell);
  });
  closeRun();
  choose(document.documentElement.getAttribute('data-framework') || Object.keys(frameworks)[0]);

  // Search (builder/search.py): minisearch and the index of every page's sections load on
  // first use, as scripts of the site's own folder, which works from file:// too.
  var box = document.querySelector('.d2l-search-box');
  var results = document.querySelector('.d2l-results');
  var engine = null;
  function script(src) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement('script');
      tag.src = src;
      tag.onload = resolve;
      tag.onerror = reject;
      document.head.appendChild(tag);
    });
  }
  function searchEngine() {
    engine = engine || script('_static/minisearch.js').then(function () {
      return script('_static/search-index.js');
    }).then(function () {
      var search = new window.MiniSearch({
        fields: ['heading', 'text', 'title'], storeFields: ['title', 'heading', 'text'],
        searchOptions: {prefix: true, combineWith: 'AND', boost: {heading: 3, title: 1.5},
                        fuzzy: function (term) { return term.length > 5 ? 0.2 : false; }}});
      search.addAll(window.d2lSearchDocuments);
      return search;
    });
    engine.catch(function () { engine = null; });  // a failed load is tried again
    return engine;
  }
  function snippet(text, terms) {
    var lower = text.toLowerCase(), at = -1;
    terms.forEach(function (term) {
      var found = lower.indexOf(term.toLowerCase());
      if (found >= 0 && (at < 0 || found < at)) { at = found; }
    });
    var start = Math.max(0, at - 60);
    return (start ? '\u2026' : '') + text.slice(start, start + 180) + '\u2026';
  }
  function element(tag, className, text) {
    var made = document.createElement(tag);
    made.className = className;
    made.textContent = text;
    return made;
  }
  function showResults(hits, query) {
    results.innerHTML = '';
    hits.slice(0, 8).forEach(function (hit) {
      var item = document.createElement('li'), target = document.createElement('a');
      target.href = hit.id;
      target.appendChild(element('strong', 'd2l-heading', hit.heading));
      target.appendChild(element('span', 'd2l-where', hit.title));
      target.appendChild(element('span', 'd2l-snippet', snippet(hit.text, hit.terms)));
      item.appendChild(target);
      results.appendChild(item);
    });
    if (!hits.length) {
      results.appendChild(element('li', 'd2l-none', 'No section mentions \u201c' + query + '\u201d.'));
    }
    results.hidden = false;
  }
  if (box && results) {
    box.addEventListener('focus', function () { searchEngine(); });
    box.addEventListener('input', function () {
      var query = box.value.trim();
      if (!query) { results.hidden = true; return; }
      searchEngine().then(function (search) {
        if (box.value.trim() === query) { showResults(search.search(query), query); }
      });
    });
    box.addEventListener('keydown', function (event) {
      if (event.key === 'Escape') { box.value = ''; results.hidden = true; }
      if (event.key === 'ArrowDown' && results.querySelector('a')) {
        results.querySelector('a').focus();
        event.preventDefault();
      }
    });
    document.addEventListener('click', function (event) {  // a click elsewhere closes the list
      if (!event.target.closest('.d2l-search')) { results.hidden = true; }
    });
    results.addEventListener('keydown', function (event) {  // the arrows move along the list
      if (event.key === 'Escape') { results.hidden = true; box.focus(); return; }
      var links = Array.prototype.slice.call(results.querySelectorAll('a'));
      var here = links.indexOf(document.activeElement);
      var step = {ArrowDown: 1, ArrowUp: -1}[event.key];
      if (!step || here < 0) { return; }
      (links[here + step] || box).focus();
      event.preventDefault();
    });
  }

  // A block that scrolls sideways (a wide table, a long line of code) takes the keyboard's
  // focus, so that a reader without a mouse can scroll it too.
  document.querySelectorAll('main pre, main table').forEach(function (block) {
    if (block.scrollWidth > block.clientWidth + 1 && !block.hasAttribute('tabindex')) {
      block.setAttribute('tabindex', '0');
    }
  });

  var toc = document.querySelector('.d2l-sidebar details');
  if (toc && window.matchMedia('(max-width: 60rem)').matches) {
    toc.open = false;
  }
}());
