export function postgresBinDir(): string | undefined

export interface Cluster {
  dir: string
  data: string
  user: string
  command(name: string, args: string[]): [string, string[]]
}

export function newCluster(prefix: string): Cluster
