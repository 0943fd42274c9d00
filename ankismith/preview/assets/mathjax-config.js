// The MathJax configuration Anki loads for cards (ankitects/anki ts/mathjax/index.ts; AnkiDroid
// ships the same): \(..\) inline, \[..\] display, noerrors and mathtools, and no typesetting at
// start-up: the frame typesets each side once its HTML is in place, as Anki's reviewer does.
window.MathJax = {
  tex: {
    displayMath: [["\\[", "\\]"]],
    processEscapes: false,
    processEnvironments: false,
    processRefs: false,
    packages: { "[+]": ["noerrors", "mathtools"], "[-]": ["textmacros"] },
  },
  loader: { load: ["[tex]/noerrors", "[tex]/mathtools"], versionWarnings: false },
  startup: { typeset: false },
};
