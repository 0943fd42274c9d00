/* ankismith preview: one card side, shown the way Anki desktop's reviewer shows it.
 * The side's HTML goes into #qa, each of its <script>s is replaced by a copy so that it runs (as
 * Anki does: innerHTML alone runs no script), then MathJax typesets #qa. On Enter in a numeric
 * card's answer box (the card script calls _typeAnsPress, as Anki desktop defines it) the back
 * replaces the front in the same page: what was typed reaches the back as it does in Anki.
 *
 * Messages: only from the page that holds this frame, of this frame's own origin (another site
 * must not hand it HTML to show), and only to that origin. A page read from disk (file:) has an
 * opaque origin: its messages say "null" and none can be addressed to it but with "*"; no web page
 * can frame or open a file: page, so there the parent check is what remains. */
(function () {
  "use strict";
  var local = window.location.protocol === "file:";
  var ORIGIN = local ? "null" : window.location.origin; // what the parent's messages say
  var TARGET = local ? "*" : window.location.origin; // where this frame's messages may go
  var params = new URLSearchParams(window.location.search);
  var noteId = params.get("n") || "";
  var ordinal = Number(params.get("o") || 0);
  var frameId = params.get("f") || "";
  var side = params.get("s") === "a" ? "a" : "q";
  var night = params.get("night") === "1";
  var card = null;

  function tell(message) {
    message.frame = frameId;
    if (window.parent !== window) window.parent.postMessage(message, TARGET);
  }

  function fromParent(event) {
    return window.parent !== window && event.source === window.parent && event.origin === ORIGIN;
  }

  /** A front tells its page what the card script recorded (the instance shown, what was typed:
   * window.ankismith.state, docs/card-script.md), so that the back frame beside it can grade it. */
  function tellTyped() {
    var api = window.ankismith;
    if (side === "q" && card && api && api.state) tell({ type: "typed", state: api.state });
  }

  /** A back takes the front's record and draws its verdict again. */
  function takeTyped(state) {
    var api = window.ankismith;
    if (side !== "a" || !card || !api || !api.state || !state || typeof state !== "object") return;
    Object.keys(state).forEach(function (salt) {
      var record = state[salt];
      var typed = record && typeof record === "object" ? record.typed : null;
      // a record types one string per part (pool format 2), or one string (a format 1 record)
      var readable = typeof typed === "string" || (Array.isArray(typed) && typed.every(function (t) {
        return typeof t === "string";
      }));
      if (readable) api.state[salt] = record;
    });
    if (typeof api.renderAll === "function") api.renderAll(); // the card script checks each record
  }

  function setInnerHTML(element, html) {
    element.innerHTML = html;
    var scripts = element.getElementsByTagName("script");
    for (var i = 0; i < scripts.length; i++) {
      var old = scripts[i];
      var fresh = document.createElement("script");
      for (var j = 0; j < old.attributes.length; j++) fresh.setAttribute(old.attributes[j].name, old.attributes[j].value);
      fresh.appendChild(document.createTextNode(old.innerHTML));
      old.replaceWith(fresh);
    }
  }

  function typeset(qa) {
    var mj = window.MathJax;
    if (!mj || !mj.startup || !mj.startup.promise) return Promise.resolve();
    return mj.startup.promise
      .then(function () {
        window.MathJax.typesetClear([qa]);
        return window.MathJax.typesetPromise([qa]);
      })
      .catch(function (error) {
        tell({ type: "mathjax-error", message: String(error) });
      });
  }

  function show(which) {
    side = which;
    var qa = document.getElementById("qa");
    var html = which === "a" ? card.a : card.q;
    document.body.className = "card card" + (ordinal + 1) + (night ? " nightMode night_mode" : "");
    document.documentElement.className = night ? "night-mode" : "";
    setInnerHTML(qa, html);
    typeset(qa).then(function () {
      tell({ type: "shown", side: which });
      tellTyped(); // a front drawn again has an empty box: the back beside it says so too
    });
  }

  window._typeAnsPress = function () {
    if (side === "q") show("a");
  };

  window.ankismithCard = function (data) {
    card = null;
    for (var i = 0; i < data.sides.length; i++) {
      if (data.sides[i].ord === ordinal) card = data.sides[i];
    }
    if (!card) {
      document.getElementById("qa").textContent = "This card is gone from the deck.";
      return;
    }
    show(side);
  };

  /** Load the note's card file (again, after a rebuild: `version` defeats any cache). */
  function load(version) {
    var old = document.getElementById("am-card-data");
    if (old) old.remove();
    var script = document.createElement("script");
    script.id = "am-card-data";
    script.src = "../cards/" + encodeURIComponent(noteId) + ".js" + (version ? "?v=" + encodeURIComponent(version) : "");
    script.onerror = function () {
      document.getElementById("qa").textContent = "This card could not be loaded.";
    };
    document.head.appendChild(script);
  }

  window.addEventListener("message", function (event) {
    if (!fromParent(event)) return;
    var data = event.data || {};
    if (data.type === "side" && card) show(data.side === "a" ? "a" : "q");
    if (data.type === "typed") takeTyped(data.state);
    if (data.type === "refresh") {
      side = params.get("s") === "a" ? "a" : "q"; // a rebuilt card starts again on its own side
      card = null;
      if (data.card) window.ankismithCard(data.card); // sent along: no need to ask the server
      else load(data.version);
    }
  });

  function reportHeight() {
    // the page's own height (scrollHeight would never go below the frame's current height)
    tell({ type: "height", height: Math.ceil(document.documentElement.getBoundingClientRect().height) });
  }

  document.addEventListener("input", tellTyped); // after the card script's own listener saved it

  document.addEventListener("DOMContentLoaded", function () {
    if (window.ResizeObserver) new ResizeObserver(reportHeight).observe(document.body);
    load(params.get("v"));
  });
})();
