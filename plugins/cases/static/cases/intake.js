// 来电登记 (/admin/cases/intake/): keyboard-first enhancements. The page works without this file
// (plain GET look-up, plain POST registration); nothing here is needed to register a case.
// No inline code; the reply buttons insert through standard_replies.js (loaded first).
(function () {
  "use strict";

  // --- Look-up: search again while the agent types ---------------------------------------------

  function registerForm() {
    return document.querySelector("form[data-intake-register]");
  }

  function wireLookup() {
    var form = document.querySelector("form[data-intake-lookup]");
    var input = document.getElementById("intake-q");
    if (!form || !input) {
      return;
    }
    if (input.hasAttribute("data-select-all")) {
      input.select(); // after a registration: the next caller's number replaces the last one
    } else if (document.activeElement === input) {
      var end = input.value.length;
      input.setSelectionRange(end, end);
    }
    var timer = null;
    function ready(text) {
      // A number: once it is 7 digits (a mobile's start) or a whole "3-2-150…" label.
      var compact = text.replace(/\s/g, "");
      if (/^[\d+\-()]+$/.test(compact)) {
        var digits = compact.replace(/^(\+86|0086)/, "").replace(/\D/g, "");
        return digits.length >= 7 || /^\d+-\d+-\d{3,}$/.test(compact);
      }
      return compact.length >= 1;
    }
    input.addEventListener("input", function () {
      form.querySelectorAll("input[name=unit], input[name=owner]").forEach(function (hidden) {
        hidden.remove();
      });
      clearTimeout(timer);
      timer = setTimeout(function () {
        var typed = registerForm();
        // Never throw away what the agent has typed into the registration form.
        if (typed && typed.hasAttribute("data-dirty")) {
          return;
        }
        if (ready(input.value)) {
          form.submit();
        }
      }, 600);
    });
  }

  // --- Registration form -------------------------------------------------------------------------

  function wireRegister() {
    var form = registerForm();
    if (!form) {
      return;
    }
    var kind = form.querySelector("[data-intake-kind]");
    var select = form.querySelector("[data-intake-category]");
    var filter = form.querySelector("[data-intake-category-filter]");
    var priority = form.querySelector("[data-intake-priority]");
    var hint = form.querySelector("[data-intake-emergency]");
    var complaintOnly = form.querySelector("[data-intake-complaint-only]");
    var replies = form.querySelector("[data-intake-replies]");
    var description = form.querySelector("textarea[name=description]");
    var submit = form.querySelector("[data-intake-submit]");
    var submitting = false;
    var touched = false;
    var submitLabel = submit.textContent;

    function chosen() {
      return select.selectedIndex > 0 ? select.options[select.selectedIndex] : null;
    }

    // Kind → the categories of that kind; the filter box narrows them further.
    function refreshCategories() {
      var words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      select.querySelectorAll("optgroup").forEach(function (group) {
        var any = false;
        group.querySelectorAll("option").forEach(function (option) {
          var text = (group.label + " " + option.textContent).toLowerCase();
          var show = option.getAttribute("data-kind") === kind.value && words.every(function (word) {
            return text.indexOf(word) >= 0;
          });
          option.hidden = !show;
          any = any || show;
        });
        group.hidden = !any;
      });
    }

    function firstShown() {
      var options = select.querySelectorAll("optgroup:not([hidden]) option:not([hidden])");
      return options.length ? options[0] : null;
    }

    // An emergency category suggests 紧急 (the server registers it as 紧急 in any case); leaving
    // it for an ordinary one puts back the priority we changed, never one the agent chose.
    var raised = false;
    function refreshPriority() {
      var option = chosen();
      var emergency = !!(option && option.hasAttribute("data-emergency"));
      if (emergency) {
        if (priority.value !== "emergency") {
          priority.value = "emergency";
          raised = true;
        }
      } else if (raised) {
        priority.value = "normal";
        raised = false;
      }
      if (hint) {
        hint.hidden = !emergency;
      }
    }

    // Standard replies: general ones, the kind's, the category's or its parent's.
    function refreshReplies() {
      if (!replies) {
        return;
      }
      var option = chosen();
      var category = option ? option.value : "";
      var parent = option ? option.getAttribute("data-parent") : "";
      var any = false;
      replies.querySelectorAll("li[data-kind]").forEach(function (item) {
        var itemKind = item.getAttribute("data-kind");
        var itemCategory = item.getAttribute("data-category");
        var show = (itemKind === "" || itemKind === kind.value) &&
          (itemCategory === "" || itemCategory === category || (parent !== "" && itemCategory === parent));
        item.hidden = !show;
        any = any || show;
      });
      replies.hidden = !any;
    }

    function refreshKind() {
      if (complaintOnly) {
        complaintOnly.hidden = kind.value !== "complaint";
      }
      var option = chosen();
      if (option && option.getAttribute("data-kind") !== kind.value) {
        select.value = "";
      }
      refreshCategories();
      refreshPriority();
      refreshReplies();
    }

    if (kind && select && filter) {
      filter.hidden = false;
      select.size = 8; // a list box: the tree stays open, arrow keys move through it
      kind.addEventListener("change", refreshKind);
      select.addEventListener("change", function () {
        refreshPriority();
        refreshReplies();
      });
      filter.addEventListener("input", refreshCategories);
      filter.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault(); // choose, never submit
          var first = firstShown();
          if (first) {
            select.value = first.value;
            select.dispatchEvent(new Event("change", { bubbles: true }));
            description.focus();
          }
        } else if (event.key === "ArrowDown") {
          event.preventDefault();
          if (!chosen() || chosen().hidden) {
            var next = firstShown();
            if (next) {
              select.value = next.value;
              select.dispatchEvent(new Event("change", { bubbles: true }));
            }
          }
          select.focus();
        } else if (event.key === "Escape" && filter.value) {
          event.preventDefault();
          filter.value = "";
          refreshCategories();
        }
      });
      raised = priority.value === "emergency" && !!(chosen() && chosen().hasAttribute("data-emergency"));
      refreshKind();
      if (select.hasAttribute("autofocus")) {
        filter.focus();
      }
    }

    if (replies && description && window.AnjuCases) {  // standard_replies.js, loaded first
      description.addEventListener("focus", function () {
        touched = true;
      });
      replies.querySelectorAll("button[data-reply-text]").forEach(function (button) {
        button.addEventListener("click", function (event) {
          event.preventDefault(); // insert here; without this file the server appends it
          window.AnjuCases.insertReply(description, button.getAttribute("data-reply-text") || "", touched);
          touched = true;
        });
      });
    }

    // Ctrl+Enter (⌘+Enter) registers from anywhere in the form, the description included.
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (form.requestSubmit) {
          form.requestSubmit(submit);
        } else {
          submit.click();
        }
      }
    });

    // Typed text marks the form, so the look-up never reloads the page over it.
    form.addEventListener("input", function () {
      form.setAttribute("data-dirty", "");
    });

    // One submit at a time (the server opens one case per form anyway).
    form.addEventListener("submit", function (event) {
      if (submitting) {
        event.preventDefault();
        return;
      }
      submitting = true;
      submit.setAttribute("aria-disabled", "true");
      submit.textContent = submit.getAttribute("data-w-progress-active-value") || submit.textContent;
    });
    window.addEventListener("pageshow", function () {
      submitting = false; // back to a page kept by the browser
      submit.removeAttribute("aria-disabled");
      submit.textContent = submitLabel;
    });
  }

  function wireAll() {
    wireLookup();
    wireRegister();
    // The field the server chose (autofocus), even where the browser skipped it.
    var wanted = document.querySelector(".intake-page [autofocus]");
    if (wanted && !wanted.closest(".intake-page").contains(document.activeElement)) {
      var filter = document.querySelector("[data-intake-category-filter]");
      (wanted.hasAttribute("data-intake-category") && filter && !filter.hidden ? filter : wanted).focus();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wireAll);
  } else {
    wireAll();
  }
})();
