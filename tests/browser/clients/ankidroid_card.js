// AnkiDroid's classic reviewer, reduced to what a card sees (after ankidroid/Anki-Android
// AnkiDroid/src/main/assets/scripts/card.js and AbstractFlashcardViewer): every side is a new page
// (loadDataWithBaseURL on the same origin); MathJax is in <head> when the card holds \( or \[, and
// the body then has class "mathjax-needs-to-render"; when the page has loaded the app calls
// onPageFinished(), which typesets the card. showAnswer() asks the app to flip (there through a
// "signal:show_answer" URL that the app intercepts; here it is only recorded).
window.signals = [];
window.showAnswer = function () {
  window.signals.push("show_answer");
};
window.onPageFinished = function () {
  var card = document.querySelector(".card");
  return Promise.resolve()
    .then(function () {
      if (window.MathJax != null && card.classList.contains("mathjax-needs-to-render")) {
        return MathJax.startup.promise
          .then(function () { return MathJax.typesetPromise([card]); })
          .then(function () { card.classList.remove("mathjax-needs-to-render"); });
      }
      return undefined;
    })
    .then(function () { card.classList.add("mathjax-rendered"); });
};
