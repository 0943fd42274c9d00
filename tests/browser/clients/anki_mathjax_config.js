// The MathJax configuration Anki loads for cards (ankitects/anki ts/mathjax/index.ts, served as
// /_anki/js/mathjax.js; AnkiDroid ships the same file as backend/js/mathjax.js): \(..\) inline,
// \[..\] display, noerrors + mathtools, no typesetting at start-up (the client typesets).
window.MathJax = {
  tex: {
    displayMath: [["\\[", "\\]"]],
    processEscapes: false,
    processEnvironments: false,
    processRefs: false,
    packages: { "[+]": ["noerrors", "mathtools"], "[-]": ["textmacros"] },
  },
  loader: {
    load: ["[tex]/noerrors", "[tex]/mathtools"],
    paths: { mathjax: "/_anki/js/vendor/mathjax" },
  },
  startup: { typeset: false },
};
