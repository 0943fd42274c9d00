/* ankismith card script for numeric notes: today's instance of the pool, the answer box, the verdict.
 * Plain ES2017, no network, no storage the card depends on. Safe to run more than once on a page.
 * How it works and what each Anki client does: docs/card-script.md. Never write two opening
 * braces in a row in this file: Anki's template engine would read them as a field. */
(function () {
  "use strict";

  var api = (window.ankismith = window.ankismith || {});
  api.state = api.state || {}; // the front's record per salt; survives while the page does (desktop, AnkiMobile)

  var DAY_MS = 86400000;
  var RECENT_MS = 6 * 3600 * 1000; // a record older than this is from another review
  var SKEW_MS = 60 * 1000; // a record this far in the future still counts (clock adjustments)
  var STORE_PREFIX = "ankismith:";
  var MAX_TYPED = 500;
  var RAW_MATH = /\\\(|\\\[/;

  // ---- choosing the instance ----

  /** FNV-1a over the UTF-16 code units (the salt is ASCII), then murmur3's 32-bit finalizer. */
  function hash32(text) {
    var h = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
  }

  /** Days since 1970-01-01 of the device's local calendar date (not of the UTC date). */
  function dayNumber(date) {
    return Math.round(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()) / DAY_MS);
  }

  function chooseIndex(salt, day, size) {
    return hash32(salt + ":" + day) % size;
  }

  /** `#am-instance=N` in the page address forces instance N (clamped); anything else: null. */
  function forcedIndex(hash, size) {
    var m = /(?:^#|&)am-instance=(\d{1,9})(?:&|$)/.exec(hash || "");
    return m ? Math.min(parseInt(m[1], 10), size - 1) : null;
  }

  // ---- reading and grading typed answers (twin: ankismith/render/grading.py) ----

  var DEFAULT_TOLERANCE = 0.001;
  var MULTIPLIERS = { k: 3, K: 3, M: 6, G: 9 }; // a count typed as 1.05M, 61.706k
  var MAX_EXPONENT = 9999;

  /** One kind of minus, of space and of line break; no leading "≈" copied from the card. */
  function clean(text) {
    return String(text)
      .replace(/\r\n?|[\u2028\u2029\u0085]/g, "\n")
      .replace(/[\t\v\f\u001c-\u001f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff]/g, " ")
      .replace(/[\u2212\u2012\u2013\u2014\ufe63\uff0d]/g, "-")
      .replace(/^\s*[\u2248~=]\s*/, "")
      .trim();
  }

  var PLAIN = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
  var GROUPED = /^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$|^[+-]?\d{1,3}(?: \d{3})+(?:\.\d*)?$/;
  var SUFFIXED = /^(.+?)\s*([kKMG])$/;
  var TIMES_TEN = /^(.+?)\s*[x\u00d7*\u00b7]\s*10\s*\^\s*\(?\s*([+-]?\d+)\s*\)?$/i;

  function isNum(x) {
    return typeof x === "number" && isFinite(x);
  }

  function isObject(x) {
    return !!x && typeof x === "object";
  }

  function finite(x) {
    return isFinite(x) ? x : null;
  }

  /** A plain decimal times 10^extra, read in one go (61.706 with k is exactly 61706). */
  function scaled(plain, extra) {
    var m = /^([^eE]+)(?:[eE]([+-]?\d+))?$/.exec(plain);
    if (!m) return null;
    var exponent = (m[2] ? Number(m[2]) : 0) + (extra || 0);
    return Math.abs(exponent) > MAX_EXPONENT ? null : finite(Number(m[1] + "e" + exponent));
  }

  function parseSimple(text, extra) {
    var s = text.trim();
    if (PLAIN.test(s)) return scaled(s, extra);
    if (GROUPED.test(s)) return scaled(s.replace(/[, ]/g, ""), extra);
    return null;
  }

  /** A number as people type it: 2.90, −6.5, 61,706, 1e-3, 3/4, 1.2×10^-3, 61.706k, 1.05M; else null. */
  function parseNumber(text) {
    var s = clean(text);
    var m = SUFFIXED.exec(s);
    if (m) return parseSimple(m[1], MULTIPLIERS[m[2]]);
    m = TIMES_TEN.exec(s);
    if (m) return PLAIN.test(m[1].trim()) ? scaled(m[1].trim(), Number(m[2])) : null;
    var parts = s.split("/");
    if (parts.length === 2) {
      var num = parseSimple(parts[0]);
      var den = parseSimple(parts[1]);
      return num === null || den === null || den === 0 ? null : finite(num / den);
    }
    return parts.length === 1 ? parseSimple(s) : null;
  }

  /** The typed text without the part's unit at its end (as the card writes it, case and all). */
  function withoutUnit(text, unit) {
    var s = clean(text);
    var u = typeof unit === "string" ? clean(unit) : "";
    return u && s.length > u.length && s.slice(-u.length) === u ? s.slice(0, -u.length).trim() : s;
  }

  /** One row of `cols` entries, split at spaces, or at commas where that gives the right count. */
  function parseRow(text, cols) {
    var tries = [text.split(/\s+/), text.split(/[\s,]+/)];
    for (var t = 0; t < tries.length; t++) {
      var tokens = tries[t].filter(function (x) {
        return x !== "";
      });
      if (tokens.length !== cols) continue;
      var row = tokens.map(parseNumber);
      if (row.indexOf(null) < 0) return row;
    }
    return null;
  }

  /** Rows separated by ";" or new lines (or written as [[a, b], [c, d]]), exactly rows × cols. */
  function parseMatrix(text, rows, cols) {
    var s = clean(text);
    if (s.indexOf("[") >= 0) s = s.replace(/\]\s*[,;]?\s*\[/g, ";").replace(/[[\]]/g, " ");
    var lines = s.split(/\s*(?:;|\n)\s*/).filter(function (x) {
      return x.trim() !== "";
    });
    if (lines.length !== rows) return null;
    var out = [];
    for (var i = 0; i < rows; i++) {
      var row = parseRow(lines[i].trim(), cols);
      if (!row) return null;
      out.push(row);
    }
    return out;
  }

  function asRows(list) {
    return Array.isArray(list[0]) ? list : [list]; // a flat list is one row
  }

  /** A value as rows of numbers (a number: one row of one); null when malformed. */
  function rowsOf(value) {
    if (isNum(value)) return [[value]];
    if (!Array.isArray(value) || !value.length) return null;
    if (value.every(isNum)) return [value];
    var ok = value.every(function (row) {
      return Array.isArray(row) && row.length && row.length === value[0].length && row.every(isNum);
    });
    return ok ? value : null;
  }

  /** The typed answer in the shape of the part's value (number, flat list or rows); null if unreadable. */
  function parseAnswer(text, part) {
    var value = part.value;
    var rows = rowsOf(value);
    if (!rows) return null;
    var s = withoutUnit(text, part.unit);
    if (Array.isArray(value)) {
      var got = parseMatrix(s, rows.length, rows[0].length);
      return got && !Array.isArray(value[0]) ? got[0] : got;
    }
    if (part.square === true) {
      var m = /^(.+?)\s*[x\u00d7*]\s*(.+)$/i.exec(s);
      if (!m) return parseNumber(s);
      var a = parseNumber(m[1]);
      var b = parseNumber(m[2]);
      return a !== null && a === b ? a : null;
    }
    return parseNumber(s);
  }

  /** One entry: exact; or, when `shown` is a rounding of `value`, rounds to it; or within tolerance. */
  function entryIsRight(got, value, shown, exact, tolerance, scale) {
    if (got === value) return true;
    if (exact) return false;
    var text = typeof shown === "string" ? clean(shown) : "";
    if (/^[+-]?\d+(?:\.\d+)?$/.test(text) && Number(text) !== value) {
      var m = /\.(\d+)$/.exec(text);
      var half = 0.5 * Number("1e-" + (m ? m[1].length : 0));
      if (Math.abs(got - Number(text)) <= half * (1 + 1e-9)) return true;
    }
    var ref = value !== 0 ? Math.abs(value) : scale; // an answer of 0: absolute, at the answer's scale
    return Math.abs(got - value) <= tolerance * ref * (1 + 1e-9);
  }

  /** Whether a value (parsed, or a mistake's) is right for the part. */
  function valueIsRight(got, part, tolerance, exactInts) {
    var want = rowsOf(part.value);
    var have = rowsOf(got);
    if (!want || !have || have.length !== want.length || have[0].length !== want[0].length) return false;
    var shown = !Array.isArray(part.value) ? [[part.shown]] : Array.isArray(part.shown) ? asRows(part.shown) : [];
    var scale = 0; // the largest entry: an answer of 0 is measured against it
    want.forEach(function (row) {
      row.forEach(function (x) {
        scale = Math.max(scale, Math.abs(x));
      });
    });
    var tol = isNum(tolerance) && tolerance >= 0 ? tolerance : DEFAULT_TOLERANCE;
    var exact = part.integer === true && exactInts !== false;
    for (var i = 0; i < want.length; i++) {
      for (var j = 0; j < want[i].length; j++) {
        var entry = Array.isArray(shown[i]) ? shown[i][j] : undefined;
        if (!entryIsRight(have[i][j], want[i][j], entry, exact, tol, scale || 1)) return false;
      }
    }
    return true;
  }

  /** "correct", "wrong" or "blank" for what was typed into a part's box (null: nothing reached the back). */
  function grade(typed, part, tolerance, exactInts) {
    if (typed === null || typed === undefined || clean(typed) === "") return "blank";
    var got = parseAnswer(typed, part);
    return got !== null && valueIsRight(got, part, tolerance, exactInts) ? "correct" : "wrong";
  }

  /** A mistake graded as if it were the answer: its value and shown text, the part's shape and unit. */
  function mistakePart(mistake, part) {
    var rows = rowsOf(mistake.value);
    var whole = function (row) {
      return row.every(Number.isInteger);
    };
    var integer = typeof mistake.integer === "boolean" ? mistake.integer : !!rows && rows.every(whole);
    return { value: mistake.value, shown: mistake.shown, integer: integer, square: part.square, unit: part.unit };
  }

  /** The part's mistakes that a wrong answer matches, by the rules that grade answers. */
  function matchingMistakes(typed, part, tolerance, exactInts) {
    if (grade(typed, part, tolerance, exactInts) !== "wrong" || !Array.isArray(part.mistakes)) return [];
    return part.mistakes.filter(function (m) {
      var named = isObject(m) && typeof m.label === "string";
      return named && grade(typed, mistakePart(m, part), tolerance, exactInts) === "correct";
    });
  }

  // ---- the front's record: which instance it showed and what was typed ----

  function save(salt, record) {
    api.state[salt] = record;
    try {
      window.sessionStorage.setItem(STORE_PREFIX + salt, JSON.stringify(record));
    } catch (e) {
      // storage may be missing or throw (private modes, old WebViews): the window global remains
    }
  }

  /** What a record says was typed, one string per part (an older record's string: one part). */
  function typedList(typed) {
    if (typeof typed === "string") return [typed];
    var ok =
      Array.isArray(typed) &&
      typed.every(function (t) {
        return typeof t === "string";
      });
    return ok ? typed : null;
  }

  function usable(record, size, now) {
    return (
      !!record &&
      typeof record === "object" &&
      record.n === size &&
      typeof record.index === "number" &&
      record.index % 1 === 0 &&
      record.index >= 0 &&
      record.index < size &&
      typedList(record.typed) !== null &&
      typeof record.time === "number" &&
      now - record.time <= RECENT_MS &&
      record.time - now <= SKEW_MS
    );
  }

  /** The newest recent record for this salt, from the window or from sessionStorage; else null. */
  function load(salt, size, now) {
    var found = [api.state[salt]];
    try {
      var stored = window.sessionStorage.getItem(STORE_PREFIX + salt);
      if (stored) found.push(JSON.parse(stored));
    } catch (e) {
      // unreadable storage is no record
    }
    var best = null;
    found.forEach(function (record) {
      if (usable(record, size, now) && (!best || record.time > best.time)) best = record;
    });
    return best;
  }

  // ---- the page ----

  /** The pool in format 2's shape (format 1: one part per instance, no mistakes); else null. */
  function normalPool(pool) {
    if (!pool || (pool.v !== 1 && pool.v !== 2) || !Array.isArray(pool.instances)) return null; // a future format
    pool.exactInts = pool.v === 1 || pool.exact_ints !== false;
    var count = 0;
    var ok = pool.instances.every(function (i) {
      if (!isObject(i)) return false;
      var v1 = { name: "", label: "", value: i.value, shown: i.shown, integer: i.integer, square: i.square };
      if (pool.v === 1) i.parts = [v1];
      count = count || (Array.isArray(i.parts) && i.parts.length);
      return Array.isArray(i.parts) && i.parts.length === count && i.parts.every(isObject);
    });
    return ok && count ? pool : null;
  }

  function readPool(element) {
    if (element.amPool !== undefined) return element.amPool;
    var pool = null;
    try {
      pool = normalPool(JSON.parse(element.textContent));
    } catch (e) {
      pool = null;
    }
    if (pool && typeof pool.salt !== "string") pool.salt = "h" + hash32(element.textContent);
    element.amPool = pool;
    return pool;
  }

  function slot(root, name) {
    return root.querySelector('[data-am="' + name + '"]');
  }

  /** Tell MathJax to forget the math it typeset in an element whose content is about to go. */
  function forget(element) {
    var mj = window.MathJax;
    if (mj && typeof mj.typesetClear === "function" && element.querySelector("mjx-container")) {
      try {
        mj.typesetClear([element]);
      } catch (e) {
        // an older MathJax without per-element clearing: nothing to forget
      }
    }
  }

  function fill(element, html) {
    forget(element);
    element.innerHTML = html;
  }

  /** Typeset changed slots after MathJax's start-up and after any typeset queued before us.
   * Only for a card MathJax already typeset: otherwise the client typesets the whole card once
   * its own set-up is done (Anki desktop sets the body's classes, and so the font MathJax
   * measures, only after the card's scripts ran). */
  function typesetLater(elements) {
    var mj = window.MathJax;
    if (!mj || !mj.startup || !mj.startup.promise || typeof mj.startup.promise.then !== "function") return;
    mj.startup.promise = mj.startup.promise
      .then(function () {
        var now = window.MathJax;
        var raw = elements.filter(function (el) {
          return el.isConnected !== false && RAW_MATH.test(el.textContent);
        });
        if (raw.length && now && typeof now.typesetPromise === "function") return now.typesetPromise(raw);
        return undefined;
      })
      .catch(function (err) {
        if (window.console) window.console.log("ankismith: MathJax: " + err);
      });
  }

  /** Put the instance into the slots (unless it is already there); the slots it changed. */
  function showInstance(root, question, poolElement, instance, index) {
    var shown = question.getAttribute("data-am-shown");
    if ((shown === null ? 0 : Number(shown)) === index) return [];
    var changed = [question];
    fill(question, instance.question || "");
    question.appendChild(poolElement); // keep the pool for a second run of this script
    question.setAttribute("data-am-shown", String(index));
    ["answer", "solution", "extra"].forEach(function (name) {
      var element = slot(root, name);
      if (element) {
        fill(element, instance[name] || "");
        changed.push(element);
      }
    });
    return changed;
  }

  /** Flip to the answer the way the client's own type-answer box does on Enter. */
  function flip(event, input) {
    var w = window;
    try {
      if (w.ankidroid && typeof w.ankidroid.onTypeAnswerKeyDown === "function") {
        w.ankidroid.onTypeAnswerKeyDown(event); // AnkiDroid's new study screen
        return;
      }
      if (typeof w._typeAnsPress === "function") {
        w._typeAnsPress(); // Anki desktop (reads window.event)
        return;
      }
      if (typeof w.showAnswer === "function") {
        w.showAnswer(); // AnkiDroid's classic reviewer (card.js)
        return;
      }
    } catch (e) {
      // a client hook that failed leaves the student the client's own "Show Answer"
    }
    input.blur(); // no hook: at least close the on-screen keyboard
  }

  function text(value) {
    return typeof value === "string" ? value : "";
  }

  /** A part's caption on a card of several: "(a) dW1". */
  function title(part, i) {
    return (text(part.label) + " " + text(part.name)).trim() || "(" + (i + 1) + ")";
  }

  function buildBox(root, pool, instance, index, now) {
    var box = slot(root, "box");
    if (!box || box.getAttribute("data-am-index") === String(index)) return; // a second run
    var parts = instance.parts;
    var inputs = [];
    box.textContent = "";
    box.setAttribute("data-am-index", String(index));
    var record = function (time) {
      var typed = inputs.map(function (input) {
        return input.value.slice(0, MAX_TYPED);
      });
      save(pool.salt, { index: index, n: pool.instances.length, typed: typed, time: time });
    };
    parts.forEach(function (part, i) {
      var input = make("input", "am-input tappable"); // AnkiMobile passes taps only to .tappable elements
      input.type = "text";
      ["autocomplete", "autocorrect", "autocapitalize", "spellcheck"].forEach(function (name) {
        input.setAttribute(name, name === "spellcheck" ? "false" : "off");
      });
      input.setAttribute("enterkeyhint", i + 1 < parts.length ? "next" : "done");
      input.setAttribute("data-part", text(part.name));
      var rows = Array.isArray(part.value) && Array.isArray(part.value[0]);
      input.placeholder = rows ? "rows separated by ;  e.g. 1 2; 3 4" : isNum(part.value) ? "your answer" : "e.g. 1 2 3";
      input.addEventListener("input", function () {
        record(Date.now());
      });
      input.addEventListener("keydown", function (event) {
        var enter = event.key === "Enter" || event.keyCode === 13;
        if (!enter || event.isComposing || event.keyCode === 229) return;
        event.preventDefault();
        if (i + 1 < inputs.length) inputs[i + 1].focus(); // Enter moves on; in the last box it flips
        else flip(event, input);
      });
      if (parts.length > 1) {
        var field = make("div", "am-field");
        var caption = make("label", "am-part", title(part, i));
        api.boxes = (api.boxes || 0) + 1;
        input.id = caption.htmlFor = "am-input-" + api.boxes; // unique on a page of cards
        field.appendChild(caption);
        field.appendChild(input);
        box.appendChild(field);
      } else {
        input.setAttribute("aria-label", "Your answer");
        box.appendChild(input);
      }
      inputs.push(input);
    });
    record(now); // typed "": an earlier review's answer can never reach this back
    if (window.ankiPlatform === "desktop") {
      try {
        inputs[0].focus({ preventScroll: true }); // as Anki desktop focuses its own box; not on phones
      } catch (e) {
        // focus is a nicety
      }
    }
  }

  var LABELS = { correct: "\u2713 Correct", wrong: "\u2717 Wrong", blank: "No answer typed" };

  function make(tag, className, content) {
    var node = document.createElement(tag);
    node.className = className;
    if (content !== undefined) node.textContent = content; // text, never HTML
    return node;
  }

  /** One part's verdict; `caption` null on a one-answer card (today's element, no data-part). */
  function verdictFor(kind, typed, part, caption, mistakes) {
    var verdict = make("div", "verdict");
    verdict.setAttribute("data-verdict", kind);
    if (caption !== null) {
      verdict.setAttribute("data-part", text(part.name));
      verdict.appendChild(make("span", "am-part", caption));
      verdict.appendChild(document.createTextNode(" "));
    }
    verdict.appendChild(make("span", "am-verdict-label", LABELS[kind]));
    if (kind !== "blank") {
      var said = make("span", "am-said", " \u2014 you typed ");
      // out of MathJax's reach: 3.2 skips mathjax_ignore, 2 to 3.1 tex2jax_ignore
      said.appendChild(make("span", "am-typed tex2jax_ignore mathjax_ignore", typed));
      verdict.appendChild(said);
    }
    if (mistakes.length) {
      verdict.setAttribute("data-mistake", mistakes[0].label);
      var why = make("div", "am-mistake", "This is what you get if ");
      mistakes.forEach(function (mistake, i) {
        if (i) why.appendChild(document.createTextNode(", or if "));
        var what = make("span", "am-mistake-label", mistake.label);
        if (typeof mistake.html === "string") what.innerHTML = mistake.html; // the deck's own HTML and math
        why.appendChild(what);
      });
      verdict.appendChild(why);
    }
    return verdict;
  }

  /** Every part's verdict into the slot; true when it was (re)built. */
  function showVerdict(root, pool, instance, index, typed) {
    var place = slot(root, "verdict");
    var key = index + "\u0000" + JSON.stringify(typed);
    if (!place || (place.amKey === key && place.querySelector(".verdict"))) return false; // a second run
    forget(place);
    place.textContent = "";
    var several = instance.parts.length > 1;
    instance.parts.forEach(function (part, i) {
      var said = typed && typeof typed[i] === "string" ? typed[i] : null;
      var kind = grade(said, part, pool.tolerance, pool.exactInts);
      var mistakes = kind === "wrong" ? matchingMistakes(said, part, pool.tolerance, pool.exactInts) : [];
      place.appendChild(verdictFor(kind, said, part, several ? title(part, i) : null, mistakes));
    });
    place.amKey = key;
    return true;
  }

  /** Show today's (or the front's, or the forced) instance in one card; build the box or verdict. */
  function render(root) {
    var question = slot(root, "question");
    var poolElement = question && question.querySelector("script.am-pool");
    var pool = poolElement && readPool(poolElement);
    if (!pool) return; // no pool, or of an unknown format: the static instance stays
    var size = pool.instances.length;
    var now = Date.now();
    var back = !!slot(root, "answer");
    var forced = forcedIndex(window.location.hash, size);
    var index = forced !== null ? forced : chooseIndex(pool.salt, dayNumber(new Date(now)), size);
    var typed = null;
    if (back) {
      var record = load(pool.salt, size, now);
      if (record && (forced === null || record.index === forced)) {
        index = record.index;
        typed = typedList(record.typed);
      }
    }
    var instance = pool.instances[index];
    var typeset = !!root.querySelector("mjx-container"); // the template's hidden \(\) is always math
    var changed = showInstance(root, question, poolElement, instance, index);
    if (pool.type) {
      if (!back) buildBox(root, pool, instance, index, now);
      else if (showVerdict(root, pool, instance, index, typed)) changed.push(slot(root, "verdict"));
    }
    if (changed.length && typeset) typesetLater(changed);
  }

  /** Every card on the page (a preview may hold several): each question slot's parent. */
  function renderAll() {
    var slots = document.querySelectorAll('[data-am="question"]');
    for (var i = 0; i < slots.length; i++) {
      if (slots[i].parentNode) render(slots[i].parentNode);
    }
  }

  function ownRoot() {
    var script = document.currentScript;
    var node = script && script.parentNode;
    while (node && node.nodeType === 1 && !slot(node, "question")) node = node.parentNode;
    return node && node.nodeType === 1 ? node : null;
  }

  api.RAW_MATH = RAW_MATH;
  api.hash32 = hash32;
  api.dayNumber = dayNumber;
  api.chooseIndex = chooseIndex;
  api.forcedIndex = forcedIndex;
  api.parseNumber = parseNumber;
  api.parseAnswer = parseAnswer;
  api.grade = grade;
  api.matchingMistakes = matchingMistakes;
  api.render = render;
  api.renderAll = renderAll;

  if (!api.listening) {
    api.listening = true;
    window.addEventListener("hashchange", function () {
      window.ankismith.renderAll();
    });
  }

  var root = ownRoot();
  if (root) render(root);
  else renderAll();
})();
