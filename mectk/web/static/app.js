// Optional nicety; every page works without this file.
// A form that takes a while (validating uploads, writing a report) says so once sent,
// and its button is not pressed twice.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = form.querySelector("button[type=submit][data-busy]");
  if (button) {
    window.setTimeout(function () {
      button.disabled = true;
      button.textContent = button.getAttribute("data-busy");
    }, 0);
  }
});
