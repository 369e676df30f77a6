// The live timeline of a document page: the server sends the re-rendered (autoescaped) timeline
// fragment over server-sent events whenever the document has a new event. When the session ends,
// the server sends "ended" (why, as text) and closes: the page stops listening and says so, with
// a way to log in again and come back here. Without JavaScript, the page still shows the
// timeline as of loading.
(function () {
  "use strict";
  var region = document.getElementById("timeline");
  var note = document.getElementById("live-note");
  if (!region || !window.EventSource) {
    return;
  }
  var source = new EventSource(region.getAttribute("data-live"));
  var stopped = false;
  function say(text) {
    if (note && !stopped) {
      note.textContent = text;
    }
  }
  source.addEventListener("timeline", function (event) {
    region.innerHTML = event.data;
    say("Đã cập nhật trạng thái mới.");
  });
  source.addEventListener("ended", function (event) {
    source.close();
    if (!note) {
      return;
    }
    note.textContent = "Đã dừng cập nhật tự động: " + event.data + " ";
    var again = document.createElement("a");
    again.href = "/ui/login?next=" + encodeURIComponent(location.pathname + location.search);
    again.textContent = "Đăng nhập lại";
    note.appendChild(again);
    note.className = "flash warn";
    stopped = true;
  });
  source.addEventListener("open", function () {
    say("Trang tự cập nhật khi có trạng thái mới.");
  });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) {
      say("Mất kết nối cập nhật tự động; hãy tải lại trang.");
    } else {
      say("Đang kết nối lại để cập nhật…");
    }
  });
})();
