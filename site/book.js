// The course site's behaviour: copy buttons on code cells, and the contents folded on
// narrow screens (they stay open without JavaScript).
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

  var toc = document.querySelector('.d2l-sidebar details');
  if (toc && window.matchMedia('(max-width: 60rem)').matches) {
    toc.open = false;
  }
}());
