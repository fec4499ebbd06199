import { Anchor, Button, Container, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, Navigate, useLocation, useNavigate } from 'react-router-dom';
import { api, call } from '../api.js';
import { useAuth } from '../auth.js';
import { FormError, fieldErrors } from '../ui.js';

function useSignedInRedirect() {
  const navigate = useNavigate();
  const from = (useLocation().state as { from?: string } | null)?.from ?? '/';
  return () => navigate(from, { replace: true });
}

export function LoginPage() {
  const { signedIn, signIn } = useAuth();
  const done = useSignedInRedirect();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const login = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/auth/login', { body: { email, password } })),
    onSuccess: (s) => { signIn(s); done(); },
  });
  if (signedIn) return <Navigate to="/" replace />;
  const errors = fieldErrors(login.error);
  const submit = (e: FormEvent) => { e.preventDefault(); login.mutate(); };
  return (
    <Container size={420} my={60}>
      <Title order={1} ta="center">Log in to Switchyard</Title>
      <Paper withBorder p="lg" mt="lg" component="form" onSubmit={submit} noValidate>
        <Stack>
          <TextInput label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={errors.email} />
          <PasswordInput label="Password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} error={errors.password} />
          <FormError error={login.error} />
          <Button type="submit" loading={login.isPending}>Log in</Button>
          <Text size="sm">No account? <Anchor component={Link} to="/signup">Sign up</Anchor> · <Anchor component={Link} to="/forgot-password">Forgot password?</Anchor></Text>
        </Stack>
      </Paper>
    </Container>
  );
}

export function SignupPage() {
  const { signedIn, signIn } = useAuth();
  const done = useSignedInRedirect();
  const [form, setForm] = useState({ name: '', email: '', password: '', organizationName: '' });
  const set = (k: keyof typeof form) => (e: { currentTarget: { value: string } }) => setForm({ ...form, [k]: e.currentTarget.value });
  const signup = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/auth/signup', {
      body: { email: form.email, password: form.password, name: form.name || null, organizationName: form.organizationName || null },
    })),
    onSuccess: (s) => { signIn(s); done(); },
  });
  if (signedIn) return <Navigate to="/" replace />;
  const errors = fieldErrors(signup.error);
  return (
    <Container size={420} my={60}>
      <Title order={1} ta="center">Create your account</Title>
      <Paper withBorder p="lg" mt="lg" component="form" noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); signup.mutate(); }}>
        <Stack>
          <TextInput label="Name" autoComplete="name" value={form.name} onChange={set('name')} error={errors.name} />
          <TextInput label="Email" type="email" autoComplete="email" required value={form.email} onChange={set('email')} error={errors.email} />
          <PasswordInput label="Password" description="At least 8 characters" autoComplete="new-password" required value={form.password} onChange={set('password')} error={errors.password} />
          <TextInput label="Organisation name" value={form.organizationName} onChange={set('organizationName')} error={errors.organizationName} />
          <FormError error={signup.error} />
          <Button type="submit" loading={signup.isPending}>Sign up</Button>
          <Text size="sm">Have an account? <Anchor component={Link} to="/login">Log in</Anchor></Text>
        </Stack>
      </Paper>
    </Container>
  );
}

export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const send = useMutation({ mutationFn: () => call(() => api.POST('/api/v1/auth/forgot-password', { body: { email } })) });
  const errors = fieldErrors(send.error);
  return (
    <Container size={420} my={60}>
      <Title order={1} ta="center">Reset your password</Title>
      <Paper withBorder p="lg" mt="lg" component="form" noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); send.mutate(); }}>
        <Stack>
          {send.isSuccess ? <Text role="status">If the address has an account, a reset link is on its way.</Text> : (
            <>
              <TextInput label="Email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={errors.email} />
              <FormError error={send.error} />
              <Button type="submit" loading={send.isPending}>Send reset link</Button>
            </>
          )}
          <Anchor component={Link} to="/login" size="sm">Back to log in</Anchor>
        </Stack>
      </Paper>
    </Container>
  );
}

export function ResetPasswordPage() {
  const token = new URLSearchParams(useLocation().search).get('token') ?? '';
  const [newPassword, setPassword] = useState('');
  const reset = useMutation({ mutationFn: () => call(() => api.POST('/api/v1/auth/reset-password', { body: { token, newPassword } })) });
  const errors = fieldErrors(reset.error);
  return (
    <Container size={420} my={60}>
      <Title order={1} ta="center">Choose a new password</Title>
      <Paper withBorder p="lg" mt="lg" component="form" noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); reset.mutate(); }}>
        <Stack>
          {reset.isSuccess ? <Text role="status">Password changed. <Anchor component={Link} to="/login">Log in</Anchor></Text> : (
            <>
              <PasswordInput label="New password" autoComplete="new-password" value={newPassword} onChange={(e) => setPassword(e.currentTarget.value)} error={errors.newPassword ?? errors.token} />
              <FormError error={reset.error} />
              <Button type="submit" loading={reset.isPending}>Set password</Button>
            </>
          )}
        </Stack>
      </Paper>
    </Container>
  );
}

export function AcceptInvitationPage() {
  const token = new URLSearchParams(useLocation().search).get('token') ?? '';
  const { signedIn } = useAuth();
  const [password, setPassword] = useState('');
  const accept = useMutation({ mutationFn: () => call(() => api.POST('/api/v1/invitations/accept', { body: { token, ...(password ? { password } : {}) } })) });
  const errors = fieldErrors(accept.error);
  return (
    <Container size={420} my={60}>
      <Title order={1} ta="center">Join the organisation</Title>
      <Paper withBorder p="lg" mt="lg" component="form" noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); accept.mutate(); }}>
        <Stack>
          {accept.isSuccess ? <Text role="status">You joined {accept.data.data.organization.name}. <Anchor component={Link} to={signedIn ? '/' : '/login'}>Continue</Anchor></Text> : (
            <>
              {!signedIn && <PasswordInput label="Password for your new account" value={password} onChange={(e) => setPassword(e.currentTarget.value)} error={errors.password} />}
              <FormError error={accept.error} />
              <Button type="submit" loading={accept.isPending}>Accept invitation</Button>
            </>
          )}
        </Stack>
      </Paper>
    </Container>
  );
}
