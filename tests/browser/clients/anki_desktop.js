// Anki desktop's reviewer page, reduced to what a card sees (after ankitects/anki ts/reviewer/index.ts):
// one long-lived page; _showQuestion/_showAnswer queue an update that lazily loads MathJax when the
// HTML holds \( or \[, sets #qa's innerHTML, re-inserts each <script> so that it runs, runs the
// update hooks, waits for MathJax's start-up, clears and typesets #qa, then runs the shown hooks
// (which focus #typeans). _typeAnsPress sends "ans" over the bridge on Enter.
(function () {
  var queue = Promise.resolve();
  var mathjaxLoading = null;
  window.ankiPlatform = "desktop";
  window.bridgeMessages = [];
  window.bridgeCommand = function (message) {
    window.bridgeMessages.push(message);
  };

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = function () { resolve(); };
      script.onerror = function () { reject(new Error("cannot load " + src)); };
      document.head.appendChild(script);
    });
  }

  function lazyLoadMathJax() {
    if (!mathjaxLoading) {
      mathjaxLoading = loadScript("/_anki/js/mathjax.js").then(function () {
        return loadScript("/_anki/js/vendor/mathjax/tex-chtml-full.js");
      });
    }
    return mathjaxLoading;
  }

  function hasMath(html) {
    return /\\\[(.*?)\\\]|\\\((.*?)\\\)/s.test(html);
  }

  async function setInnerHTML(element, html) {
    element.innerHTML = html; // scripts inserted this way do not run...
    var scripts = element.getElementsByTagName("script"); // live, as in Anki
    for (var i = 0; i < scripts.length; i++) {
      var old = scripts[i];
      var fresh = document.createElement("script"); // ...so each is replaced by a copy, which runs
      for (var j = 0; j < old.attributes.length; j++) fresh.setAttribute(old.attributes[j].name, old.attributes[j].value);
      fresh.appendChild(document.createTextNode(old.innerHTML));
      old.replaceWith(fresh);
    }
  }

  async function update(html, onUpdate, onShown) {
    var qa = document.getElementById("qa");
    var math = hasMath(html);
    if (math) await lazyLoadMathJax();
    qa.style.opacity = "0";
    await setInnerHTML(qa, html);
    onUpdate();
    if (math && window.MathJax && MathJax.startup) {
      await MathJax.startup.promise.then(function () {
        MathJax.typesetClear();
        return MathJax.typesetPromise([qa]);
      }).catch(function (error) {
        window.mathjaxErrors = (window.mathjaxErrors || []).concat(String(error));
      });
    }
    qa.style.opacity = "1";
    onShown();
  }

  window._showQuestion = function (q, a, bodyclass) {
    queue = queue.then(function () {
      return update(q, function () {
        window.scrollTo(0, 0);
        document.body.className = bodyclass;
      }, function () {
        var typeans = document.getElementById("typeans");
        if (typeans) typeans.focus();
      });
    });
    return queue;
  };

  window._showAnswer = function (a, bodyclass) {
    queue = queue.then(function () {
      return update(a, function () {
        if (bodyclass) document.body.className = bodyclass;
      }, function () {});
    });
    return queue;
  };

  window._typeAnsPress = function () {
    if (window.event.key === "Enter") window.bridgeCommand("ans");
  };

  window.reviewerIdle = function () {
    return queue;
  };
})();
