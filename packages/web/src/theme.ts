import { ColorInput, createTheme, type CSSVariablesResolver } from '@mantine/core';

/**
 * Mantine's defaults put white on blue.6 and blue.6 on white (3.55:1) and dimmed text in gray.6
 * (3.32:1), below WCAG AA's 4.5:1 for body text; the a11y e2e test checks every page with axe.
 * Filled and link colours use shade 8 (blue.8 on white is 4.9:1), light variants a darker text.
 */
export const theme = createTheme({
  primaryColor: 'blue',
  primaryShade: { light: 8, dark: 5 },
  autoContrast: true,
  components: {
    // The eye-dropper is an icon button: without a name a screen reader announces only "button".
    ColorInput: ColorInput.extend({ defaultProps: { eyeDropperButtonProps: { 'aria-label': 'Pick a colour from the screen' } } }),
  },
});

export const cssVariablesResolver: CSSVariablesResolver = (t) => ({
  variables: {},
  light: {
    '--mantine-color-dimmed': t.colors.gray[7]!,
    '--mantine-color-blue-light-color': t.colors.blue[9]!,
    '--mantine-color-red-light-color': t.colors.red[9]!,
    '--mantine-color-green-light-color': t.colors.green[9]!,
    '--mantine-color-gray-light-color': t.colors.gray[8]!,
    '--mantine-color-yellow-light-color': t.colors.yellow[9]!,
    '--mantine-color-orange-light-color': t.colors.orange[9]!,
  },
  dark: {},
});
