// The demo product page: the quantity selector updates the badge through its `quantity` attribute.
const select = document.getElementById("quantity");
select.addEventListener("change", () => document.querySelector("loyalty-points").setAttribute("quantity", select.value));
