// Sign up and log in: the two pages a visitor without a session can see.

import { api, session } from '../api.js';
import { busy, clearErrors, field, formAlert, h, icon, showProblem } from '../ui.js';

function authLayout(page, card) {
  page.replaceChildren(h('div', { class: 'auth' },
    h('section', { class: 'auth-aside', 'aria-hidden': 'true' },
      h('div', { class: 'auth-aside-inner' },
        h('div', { class: 'brand brand-light' }, markSvg(), h('span', null, 'Marquee')),
        h('div', { class: 'auth-pitch' },
          h('p', { class: 'auth-eyebrow' }, 'White-label video platform'),
          h('p', { class: 'auth-headline' }, 'Your streaming service, your brand, live in minutes.'),
          h('ul', { class: 'auth-points' },
            point('play', 'Upload once — adaptive streaming with DRM everywhere.'),
            point('palette', 'Your logo, colours and domain on every screen.'),
            point('network', 'Resell to your own creators with quotas and plans.'))),
        h('div', { class: 'auth-mock' },
          h('div', { class: 'auth-mock-bar' }, h('i'), h('i'), h('i')),
          h('div', { class: 'auth-mock-hero' }, h('div', { class: 'auth-mock-play' }, icon('play', 18))),
          h('div', { class: 'auth-mock-row' }, h('b'), h('b'), h('b'), h('b'))))),
    h('section', { class: 'auth-main' }, h('div', { class: 'auth-card' },
      h('div', { class: 'brand brand-dark auth-card-brand' }, markSvg(), h('span', null, 'Marquee')),
      card))));
}

function point(iconName, text) {
  return h('li', null, h('span', { class: 'auth-point-icon' }, icon(iconName, 16)), h('span', null, text));
}

function markSvg() {
  const tpl = document.createElement('template');
  tpl.innerHTML = '<svg class="brand-mark" width="28" height="28" viewBox="0 0 32 32" aria-hidden="true"><rect width="32" height="32" rx="8" fill="#6d4aff"/><path d="M9 22V10l7 7 7-7v12" fill="none" stroke="#fff" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/></svg>';
  return tpl.content.firstElementChild;
}

function passwordField({ testid, autocomplete, hint }) {
  const f = field({ label: 'Password', name: 'password', type: 'password', testid, autocomplete, hint });
  const input = f.querySelector('input');
  const toggle = h('button', {
    type: 'button', class: 'input-affix', 'aria-label': 'Show password', 'aria-pressed': 'false',
    onClick: () => {
      const show = input.type === 'password';
      input.type = show ? 'text' : 'password';
      toggle.setAttribute('aria-pressed', String(show));
      toggle.setAttribute('aria-label', show ? 'Hide password' : 'Show password');
      toggle.textContent = show ? 'Hide' : 'Show';
    },
  }, 'Show');
  const group = h('div', { class: 'input-group' });
  input.replaceWith(group);
  group.append(input, toggle);
  return f;
}

/** Client-side check for empty fields, shown the same way as the API's errors. */
function requireFilled(form, messages) {
  for (const [name, message] of Object.entries(messages)) {
    const input = form.elements.namedItem(name);
    if (!input.value.trim()) {
      showProblem(form, { field: name, message });
      return false;
    }
  }
  return true;
}

export function renderSignup(page, { navigate }) {
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block btn-lg', testid: 'signup-submit' },
    h('span', null, 'Create account'));
  const form = h('form', { class: 'form', novalidate: true, testid: 'signup-form' },
    formAlert(),
    field({ label: 'Name of your streaming service', name: 'name', testid: 'signup-name', autocomplete: 'organization', placeholder: 'e.g. Northwind TV' }),
    field({ label: 'Work email', name: 'email', type: 'email', testid: 'signup-email', autocomplete: 'email', placeholder: 'you@company.com' }),
    passwordField({ testid: 'signup-password', autocomplete: 'new-password', hint: 'At least 10 characters. Use one you don’t use anywhere else.' }),
    submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    if (!requireFilled(form, { name: 'Give your streaming service a name.', email: 'Enter your email address.', password: 'Choose a password.' })) return;
    const body = {
      name: form.elements.name.value.trim(),
      email: form.elements.email.value.trim(),
      password: form.elements.password.value,
    };
    try {
      const res = await busy(submit, () => api('POST', '/v1/signup', { body, auth: false }));
      session.start(res.token, res.user?.email ?? body.email);
      navigate('/dashboard');
    } catch (err) {
      showProblem(form, err);
    }
  });

  authLayout(page, [
    h('h1', { class: 'auth-title', tabindex: '-1' }, 'Start your streaming service'),
    h('p', { class: 'auth-sub' }, 'Create a Marquee account. No credit card required.'),
    form,
    h('p', { class: 'auth-switch' }, 'Already have an account? ', h('a', { href: '#/login', testid: 'goto-login' }, 'Log in')),
  ]);
  form.elements.name.focus();
}

export function renderLogin(page, { navigate }) {
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block btn-lg', testid: 'login-submit' },
    h('span', null, 'Log in'));
  const form = h('form', { class: 'form', novalidate: true, testid: 'login-form' },
    formAlert(),
    field({ label: 'Email', name: 'email', type: 'email', testid: 'login-email', autocomplete: 'username', placeholder: 'you@company.com', value: session.email ?? '' }),
    passwordField({ testid: 'login-password', autocomplete: 'current-password' }),
    submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    if (!requireFilled(form, { email: 'Enter your email address.', password: 'Enter your password.' })) return;
    const body = { email: form.elements.email.value.trim(), password: form.elements.password.value };
    try {
      const res = await busy(submit, () => api('POST', '/v1/login', { body, auth: false }));
      session.start(res.token, body.email);
      navigate('/dashboard');
    } catch (err) {
      showProblem(form, err);
      form.elements.password.select();
    }
  });

  authLayout(page, [
    h('h1', { class: 'auth-title', tabindex: '-1' }, 'Welcome back'),
    h('p', { class: 'auth-sub' }, 'Log in to manage your streaming service.'),
    form,
    h('p', { class: 'auth-switch' }, 'New to Marquee? ', h('a', { href: '#/signup', testid: 'goto-signup' }, 'Create an account')),
  ]);
  (form.elements.email.value ? form.elements.password : form.elements.email).focus();
}
