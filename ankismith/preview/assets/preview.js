/* ankismith preview: the deck page (cards listed by sub-deck, night mode, phone width, search, a
 * stepper through fresh numeric cards' pools) and, under `ankismith serve`, live updates.
 * Messages: only from this page's own card frames, of its own origin, and only to that origin (a
 * page read from disk has an opaque origin: "null" in messages, and "*" to address its frames). */
(function () {
  "use strict";
  var local = window.location.protocol === "file:";
  var ORIGIN = local ? "null" : window.location.origin; // what the frames' messages say
  var TARGET = local ? "*" : window.location.origin; // where this page's messages may go
  var dataElement = document.getElementById("deck-data");
  var deck = dataElement ? JSON.parse(dataElement.textContent) : null;
  var state = { night: false, phone: false, query: "" };
  var frames = {}; // frame id -> {iframe, entry, side}
  var version = String(Date.now());

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) {
      node.appendChild(child);
    });
    return node;
  }

  function frameUrl(entry, ord, side, instance) {
    var query =
      "n=" + encodeURIComponent(entry.id) + "&o=" + ord + "&s=" + side + "&f=" + encodeURIComponent(frameId(entry, ord, side)) +
      (state.night ? "&night=1" : "") + "&v=" + version;
    return "../media/frame.html?" + query + (instance === null || instance === undefined ? "" : "#am-instance=" + instance);
  }

  function frameId(entry, ord, side) {
    return entry.id + "-" + ord + "-" + side;
  }

  function post(frame, message) {
    frame.iframe.contentWindow.postMessage(message, TARGET);
  }

  /** The caption says the side the frame shows: a front flipped to its answer shows a back. */
  function labelSide(frame, shown) {
    var text = frame.side === "a" ? "Back" : shown === "a" ? "Back (flipped from the front)" : "Front";
    frame.label.textContent = text;
    if (frame.button) frame.button.textContent = shown === "a" ? "Back to the front" : "Show answer";
  }

  function notice(kind, lines) {
    var box = document.getElementById("notices");
    if (!box) return;
    var old = box.querySelector('[data-kind="' + kind + '"]');
    if (old) old.remove();
    if (!lines || !lines.length) return;
    var div = el("div", { class: "notice " + kind, "data-kind": kind, role: kind === "errors" ? "alert" : "status" });
    lines.forEach(function (line) {
      div.appendChild(el("div", { text: line }));
    });
    box.appendChild(div);
  }

  function buildEntry(entry, ord) {
    var article = el("article", { class: "entry", "data-kind": entry.kind, "data-key": entry.key });
    article.searchText = (entry.text + " " + entry.key).toLowerCase();
    article.entryId = entry.id;
    var meta = el("div", { class: "meta" }, [
      el("span", { class: "kind", text: entry.kind }),
      el("code", { class: "key", text: entry.key + (entry.ords.length > 1 ? " · card " + (ord + 1) : "") }),
      el("a", { class: "source", href: entry.href, title: "line " + entry.line + " of the source", text: entry.source }),
    ]);
    article.appendChild(meta);
    if (entry.grading) article.appendChild(el("p", { class: "grading", text: entry.grading }));
    var instance = null;
    if (entry.pool > 1) {
      instance = 0;
      var label = el("span", { class: "instance", "aria-live": "polite" });
      var step = function (by) {
        instance = (instance + by + entry.pool) % entry.pool;
        label.textContent = "instance " + (instance + 1) + " of " + entry.pool;
        ["q", "a"].forEach(function (side) {
          var frame = frames[frameId(entry, ord, side)];
          frame.instance = instance;
          if (frame.iframe) frame.iframe.src = frameUrl(entry, ord, side, instance);
        });
      };
      var previous = el("button", { type: "button", class: "step", "aria-label": "previous instance", text: "\u25c0" });
      var next = el("button", { type: "button", class: "step", "aria-label": "next instance", text: "\u25b6" });
      previous.addEventListener("click", function () { step(-1); });
      next.addEventListener("click", function () { step(1); });
      label.textContent = "instance 1 of " + entry.pool;
      meta.appendChild(el("span", { class: "stepper" }, [previous, label, next]));
    }
    var sides = el("div", { class: "sides" });
    ["q", "a"].forEach(function (side) {
      var id = frameId(entry, ord, side);
      var frame = { iframe: null, entry: entry, ord: ord, side: side, instance: instance, title: "" };
      frame.title = (side === "q" ? "Front" : "Back") + " of " + entry.key;
      frame.holder = el("div", { class: "placeholder" });
      frame.label = el("span", { class: "side-label", "aria-live": "polite" });
      var caption = el("figcaption", {}, [frame.label]);
      if (side === "q") {
        var flip = el("button", { type: "button", class: "flip" });
        flip.addEventListener("click", function () {
          if (!frame.iframe) return;
          var showing = flip.textContent === "Show answer";
          post(frame, { type: "side", side: showing ? "a" : "q" });
          labelSide(frame, showing ? "a" : "q");
        });
        caption.appendChild(flip);
        frame.button = flip;
      }
      labelSide(frame, side);
      frames[id] = frame;
      sides.appendChild(el("figure", { class: "side side-" + side }, [caption, frame.holder]));
    });
    article.frameIds = [frameId(entry, ord, "q"), frameId(entry, ord, "a")];
    if (observer) observer.observe(article);
    else materialize(article);
    article.appendChild(sides);
    return article;
  }

  /** Cards get their frames when they come near the screen: a deck of 10,000 cards would
   * otherwise start 20,000 pages at once. */
  var observer = window.IntersectionObserver
    ? new IntersectionObserver(
        function (seen) {
          seen.forEach(function (item) {
            if (item.isIntersecting) {
              observer.unobserve(item.target);
              materialize(item.target);
            }
          });
        },
        { rootMargin: "600px 0px" }
      )
    : null;

  function materialize(article) {
    article.frameIds.forEach(function (id) {
      var frame = frames[id];
      if (frame.iframe) return;
      frame.iframe = el("iframe", { title: frame.title, src: frameUrl(frame.entry, frame.ord, frame.side, frame.instance) });
      frame.holder.replaceWith(frame.iframe);
    });
  }

  function render() {
    var main = document.getElementById("cards");
    main.textContent = "";
    frames = {};
    var sections = {};
    deck.cards.forEach(function (entry) {
      if (!sections[entry.deck]) {
        var title = entry.deck === deck.name ? deck.name : entry.deck.slice(deck.name.length + 2);
        sections[entry.deck] = el("section", { class: "subdeck" }, [el("h2", { text: title })]);
        main.appendChild(sections[entry.deck]);
      }
      entry.ords.forEach(function (ord) {
        sections[entry.deck].appendChild(buildEntry(entry, ord));
      });
    });
    filter();
  }

  function filter() {
    var query = state.query.trim().toLowerCase();
    var shown = 0;
    var total = 0;
    document.querySelectorAll("article.entry").forEach(function (article) {
      var match = !query || article.searchText.indexOf(query) >= 0;
      article.hidden = !match;
      total += 1;
      if (match) shown += 1;
    });
    document.querySelectorAll("section.subdeck").forEach(function (section) {
      section.hidden = !section.querySelector("article.entry:not([hidden])");
    });
    var counter = document.getElementById("shown");
    if (counter) counter.textContent = query ? shown + " of " + total + " cards" : "";
  }

  /** New listing data for a card (its text, its source line) from a rebuild. */
  function update(entry) {
    if (!deck) return;
    deck.cards.forEach(function (old, i) {
      if (old.id === entry.id) deck.cards[i] = entry;
    });
    document.querySelectorAll("article.entry").forEach(function (article) {
      if (article.entryId !== entry.id) return;
      article.searchText = (entry.text + " " + entry.key).toLowerCase();
      var link = article.querySelector("a.source");
      link.textContent = entry.source;
      link.href = entry.href;
      link.title = "line " + entry.line + " of the source";
    });
    filter();
  }

  /** Show the notes' new card files: a loaded frame takes its card from the event (`cards`) or
   * reads it again (MathJax stays loaded), one not loaded yet gets the new address; `null`: every
   * frame reloads (night mode). */
  function reloadFrames(noteIds, cards) {
    version = String(Date.now());
    Object.keys(frames).forEach(function (id) {
      var frame = frames[id];
      if (!frame.iframe || (noteIds && noteIds.indexOf(frame.entry.id) < 0)) return; // unmade frames load anew
      if (noteIds && frame.loaded) {
        var card = cards ? cards[frame.entry.id] : undefined;
        post(frame, { type: "refresh", version: version, card: card });
      } else {
        frame.iframe.removeAttribute("data-shown"); // until the new page says it is typeset
        frame.loaded = false;
        frame.iframe.src = frameUrl(frame.entry, frame.ord, frame.side, frame.instance);
      }
      labelSide(frame, frame.side); // a frame loaded again shows its own side
    });
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== ORIGIN) return;
    var data = event.data || {};
    var frame = frames[data.frame];
    if (!frame || !frame.iframe || event.source !== frame.iframe.contentWindow) return;
    if (data.type === "height") frame.iframe.style.height = Math.max(60, data.height) + "px";
    if (data.type === "shown") {
      frame.loaded = true;
      frame.iframe.setAttribute("data-shown", data.side); // what the frame shows now, typeset
      labelSide(frame, data.side);
    }
    // what was typed in a front reaches the back beside it, as it reaches the back in Anki (a
    // back that is still loading gets it once it is shown)
    var front = frames[frameId(frame.entry, frame.ord, "q")];
    var back = frames[frameId(frame.entry, frame.ord, "a")];
    if (data.type === "typed" && frame === front) front.typed = data.state;
    if ((data.type === "typed" && frame === front) || (data.type === "shown" && frame === back)) {
      if (front.typed && back.iframe && back.loaded) post(back, { type: "typed", state: front.typed });
    }
    if (data.type === "mathjax-error") notice("mathjax-error", ["MathJax: " + data.message]);
  });

  function listen() {
    if (window.location.protocol === "file:" || !window.EventSource) return;
    var source = new EventSource("/_events");
    source.addEventListener("build", function (event) {
      var data = JSON.parse(event.data);
      notice("errors", data.errors);
      notice("warnings", data.warnings);
      var version = deck && data.versions ? data.versions[deck.id] : undefined;
      if (deck && version !== undefined && version !== deck.version) {
        window.location.reload();
        return;
      }
      (data.entries || []).forEach(update);
      if (data.changed && data.changed.length) reloadFrames(data.changed, data.cards);
    });
  }

  if (deck) {
    document.getElementById("night").addEventListener("change", function (event) {
      state.night = event.target.checked;
      document.body.classList.toggle("night", state.night);
      reloadFrames(null);
    });
    document.getElementById("phone").addEventListener("change", function (event) {
      state.phone = event.target.checked;
      document.body.classList.toggle("phone", state.phone);
    });
    document.getElementById("search").addEventListener("input", function (event) {
      state.query = event.target.value;
      filter();
    });
    if (!deck.mathjax && deck.cards.some(function (entry) { return entry.math; })) {
      notice("mathjax", [
        "MathJax was not found, so math is shown as TeX source. For a local copy: " +
          "npm install --prefix ~/.cache/ankismith/mathjax-3.2.2 mathjax@3.2.2 (or pass --mathjax).",
      ]);
    }
    render();
  }
  listen();
})();
