// The standard-reply picker (统一说辞) on the case page: choosing a reply inserts its text into
// the textarea of the same form, at the cursor. No inline code (Content-Security-Policy) and
// safe to load once per form: each picker is wired once. The insertion itself is shared as
// window.AnjuCases.insertReply (the 来电登记 page's reply buttons use it too).
(function () {
  "use strict";

  function insert(textarea, text, touched) {
    // At the cursor once staff have been in the textarea; otherwise after what is there.
    var start = touched ? textarea.selectionStart : textarea.value.length;
    var end = touched ? textarea.selectionEnd : start;
    // A reply added after existing text starts on a line of its own.
    var before = textarea.value.slice(0, start);
    if (before && !/\n$/.test(before)) {
      text = "\n" + text;
    }
    textarea.setRangeText(text, start, end, "end");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.focus();
  }

  window.AnjuCases = window.AnjuCases || {};
  window.AnjuCases.insertReply = insert;

  function wire(select) {
    if (select.dataset.standardReplyWired) {
      return;
    }
    var textarea = select.form && select.form.querySelector("textarea");
    if (!textarea) {
      return; // nothing to insert into: stay hidden
    }
    select.dataset.standardReplyWired = "1";
    var touched = false;
    textarea.addEventListener("focus", function () {
      touched = true;
    });
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      if (option && option.value) {
        insert(textarea, option.getAttribute("data-text") || "", touched);
      }
      select.value = "";
    });
    var wrapper = select.closest("[data-standard-replies]");
    if (wrapper) {
      wrapper.hidden = false;
    }
  }

  function wireAll() {
    document.querySelectorAll("select[data-standard-reply-select]").forEach(wire);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wireAll);
  } else {
    wireAll();
  }
})();
