// 复制邀请: copies the ready-made invitation text. Without JavaScript (or without clipboard access, as in
// some in-app browsers) the text stays in its readonly box for a long-press copy.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-from]").forEach(function (button) {
    var box = document.getElementById(button.getAttribute("data-copy-from"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!box) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () {
        if (status) status.textContent = button.getAttribute("data-copied") || "已复制";
      };
      var fallback = function () {
        box.focus();
        box.select();
        try {
          if (document.execCommand("copy")) { done(); return; }
        } catch (e) { /* the text stays selected for a manual copy */ }
        if (status) status.textContent = button.getAttribute("data-select") || "";
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(box.value).then(done, fallback);
      } else {
        fallback();
      }
    });
  });
})();
