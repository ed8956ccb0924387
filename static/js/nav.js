// The navigation's group links open their menus (Bootstrap), and act as the buttons they
// are announced as: Space opens a menu too, as it would on a <button>. Without JavaScript the
// same links simply go to each group's main page.
document.addEventListener("keydown", function (event) {
  var toggle = event.target.closest && event.target.closest('a[data-bs-toggle="dropdown"]');
  if (toggle && (event.key === " " || event.key === "Spacebar")) {
    event.preventDefault();
    toggle.click();
  }
});
