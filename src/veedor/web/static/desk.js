// Progressive enhancement only: the sums as you type. The server checks everything again.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.entry");
  if (!form) return;
  const count = (el) => (/^\d+$/.test(el.value.trim()) ? parseInt(el.value, 10) : 0);
  const lines = [...form.querySelectorAll("input.count")].filter((el) => /^v\d+$/.test(el.name));
  const update = () => {
    const sum = lines.reduce((a, el) => a + count(el), 0);
    const total = sum + count(form.elements.nulos) + count(form.elements.blank);
    document.getElementById("lines-sum").textContent = sum;
    document.getElementById("total").textContent = total;
    const check = form.elements.check.value.trim();
    document.getElementById("mismatch").hidden = check === "" || count(form.elements.check) === sum;
  };
  form.addEventListener("input", update);
  update();
});
