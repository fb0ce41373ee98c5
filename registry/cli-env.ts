// The registry CLI runs in CI without the bot's settings (loadConfig in registry/config.ts needs
// the Telegram and webhook secrets), so it reads its three settings here, as defaults for its flags.

export interface CliEnv {
  registryPath?: string;
  kubeconfig?: string;
  dockerHost?: string;
}

export function readCliEnv(): CliEnv {
  // eslint-disable-next-line no-restricted-properties
  const { REGISTRY_PATH, KUBECONFIG, DOCKER_HOST } = process.env;
  const set = (value: string | undefined) =>
    value === undefined || value.trim() === "" ? undefined : value.trim();
  const registryPath = set(REGISTRY_PATH);
  const kubeconfig = set(KUBECONFIG);
  const dockerHost = set(DOCKER_HOST);
  return {
    ...(registryPath === undefined ? {} : { registryPath }),
    ...(kubeconfig === undefined ? {} : { kubeconfig }),
    ...(dockerHost === undefined ? {} : { dockerHost }),
  };
}
