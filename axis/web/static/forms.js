// A form refused before it was read (its session had ended, its CSRF token was stale) kept what
// was typed on the server (axis.web.forms); the page it came from carries it back as JSON data
// (#form-draft), and this puts the values back in that form and says so. Passwords, hidden
// fields and files are never filled in.
(function () {
  "use strict";
  var data = document.getElementById("form-draft");
  if (!data) {
    return;
  }
  var draft;
  try {
    draft = JSON.parse(data.textContent);
  } catch (e) {
    return;
  }
  var form = null;
  Array.prototype.forEach.call(document.forms, function (candidate) {
    if (!form && new URL(candidate.action, document.baseURI).pathname === draft.action) {
      form = candidate;
    }
  });
  if (!form) {
    return;
  }
  var filled = 0;
  Object.keys(draft.fields || {}).forEach(function (name) {
    var values = draft.fields[name];
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name !== name || /^(password|hidden|file|submit|button|reset)$/.test(field.type)) {
        return;
      }
      if (field.type === "checkbox" || field.type === "radio") {
        field.checked = values.indexOf(field.value) !== -1;
      } else if (field.tagName === "SELECT") {
        Array.prototype.forEach.call(field.options, function (option) {
          option.selected = values.indexOf(option.value) !== -1;
        });
      } else {
        field.value = values[0];
      }
      filled += 1;
    });
  });
  if (!filled) {
    return;
  }
  for (var parent = form.parentElement; parent; parent = parent.parentElement) {
    if (parent.tagName === "DETAILS") {
      parent.open = true;
    }
  }
  var note = document.createElement("p");
  note.className = "flash warn";
  note.setAttribute("role", "status");
  note.id = "form-draft-note";
  note.textContent =
    "Đã điền lại những gì bạn nhập trước đó (biểu mẫu chưa được gửi; mật khẩu không được giữ lại). " +
    "Hãy kiểm tra rồi gửi lại.";
  form.insertBefore(note, form.firstChild);
  form.scrollIntoView({ block: "center" });
  var first = form.querySelector("input:not([type=hidden]), select, textarea");
  if (first) {
    first.focus({ preventScroll: true });
  }
})();
