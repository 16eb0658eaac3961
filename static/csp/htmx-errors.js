// Global handling of failed htmx requests: nothing is swapped (the user's input stays where it is) and a
// message says what happened: session ended (with a link to log in again in a new tab), not allowed,
// server error, or no network. The CSRF token is read from the cookie at each request, so a retry after
// logging in again (which rotates the token) goes through.
(function () {
  "use strict";

  function csrfFromCookie() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : null;
  }

  function show(text, loginUrl) {
    var box = document.getElementById("htmx-alert");
    if (!box) return;
    box.replaceChildren();
    var alert = document.createElement("div");
    alert.className = "alert alert-danger alert-dismissible shadow mb-0";
    alert.setAttribute("role", "alert");
    alert.dataset.testid = "htmx-error";
    alert.append(document.createTextNode(text + " "));
    if (loginUrl) {
      var link = document.createElement("a");
      link.href = loginUrl;
      link.target = "_blank";
      link.rel = "noopener";
      link.className = "alert-link";
      link.dataset.testid = "relogin";
      link.textContent = "Log in again (opens a new tab), then retry here: what you typed is kept.";
      alert.append(link);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", "Close");
    alert.append(close);
    box.append(alert);
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfFromCookie();
    if (!token) return;
    event.detail.headers["X-CSRFToken"] = token;
    // Django reads a form's csrfmiddlewaretoken before the header: refresh it too (logging in rotates it).
    var data = event.detail.formData;
    if (data && data.has("csrfmiddlewaretoken")) data.set("csrfmiddlewaretoken", token);
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status < 400) return;
    // Form errors come back as 422 or 400 with the form to show: swap those as the page intends.
    if ((xhr.status === 400 || xhr.status === 422) && event.detail.shouldSwap) return;
    event.detail.shouldSwap = false;
    if (xhr.status === 401) {
      show("Your session has ended.", xhr.getResponseHeader("X-Login-Url") || "/login/");
    } else if (xhr.status === 403) {
      show("You are not allowed to do this, or the page is out of date: reload it and try again.");
    } else if (xhr.status === 404) {
      show("This item no longer exists: reload the page.");
    } else if (xhr.status >= 500) {
      show("Something went wrong on the server (error " + xhr.status + "). Nothing was lost here: try again.");
    } else {
      show("The request failed (error " + xhr.status + "). Try again.");
    }
  });

  document.addEventListener("htmx:sendError", function () {
    show("The server cannot be reached. Check your connection and try again; what you typed is kept.");
  });

  document.addEventListener("htmx:timeout", function () {
    show("The server took too long to answer. Try again.");
  });
})();
