package runtimestate

import (
	"context"
	"fmt"
	"path"
	"time"

	"github.com/hostscope/hostscope/hostroot"
)

// dockerConfig is the part of docker's containers/<id>/config.v2.json that
// names the container. The shape is the daemon's container.Container as it
// serialises it (checked against Docker 20.10 on Debian 12); everything else
// in the file is ignored.
type dockerConfig struct {
	ID    string `json:"ID"`
	Name  string `json:"Name"`  // "/name"
	Image string `json:"Image"` // image ID, "sha256:..."
	State struct {
		Running           bool      `json:"Running"`
		Paused            bool      `json:"Paused"`
		Restarting        bool      `json:"Restarting"`
		RemovalInProgress bool      `json:"RemovalInProgress"`
		Dead              bool      `json:"Dead"`
		Pid               int       `json:"Pid"`
		StartedAt         time.Time `json:"StartedAt"`
	} `json:"State"`
	Config struct {
		Hostname string            `json:"Hostname"`
		Image    string            `json:"Image"` // as the user gave it
		Labels   map[string]string `json:"Labels"`
	} `json:"Config"`
}

// Labels kubelet's dockershim put on the containers it ran through docker.
const (
	labelDockerType      = "io.kubernetes.docker.type" // podsandbox or container
	labelDockerSandboxID = "io.kubernetes.sandbox.id"
)

// parseDockerConfig parses docker's config.v2.json read from name. When id
// is not empty the file must describe that container (the directory it was
// found in); a file claiming another ID is malformed.
func parseDockerConfig(name string, data []byte, id string) (*Info, error) {
	var c dockerConfig
	if err := decodeObject(name, data, &c); err != nil {
		return nil, err
	}
	if c.ID == "" {
		c.ID = id
	}
	if id != "" && c.ID != id {
		return nil, fmt.Errorf("%w: %s: ID %q in the file of container %q", hostroot.ErrMalformed, name, c.ID, id)
	}
	if !validID(c.ID) {
		return nil, fmt.Errorf("%w: %s: container ID %q", hostroot.ErrMalformed, name, c.ID)
	}
	if c.State.Pid < 0 {
		return nil, fmt.Errorf("%w: %s: State.Pid %d", hostroot.ErrMalformed, name, c.State.Pid)
	}
	runtimeName := c.Name
	if len(runtimeName) > 0 && runtimeName[0] == '/' {
		runtimeName = runtimeName[1:]
	}
	info := &Info{
		Runtime:     "docker",
		ID:          c.ID,
		RuntimeName: runtimeName,
		Image:       c.Config.Image,
		ImageID:     c.Image,
		Hostname:    c.Config.Hostname,
		State:       dockerState(&c),
		PID:         c.State.Pid,
		Labels:      nonEmpty(c.Config.Labels),
		Source:      name,
	}
	kube(info, c.Config.Labels)
	if info.Name == "" {
		info.Name = runtimeName
	}
	switch c.Config.Labels[labelDockerType] {
	case "podsandbox":
		info.Sandbox = true
		info.SandboxID = info.ID
	case "container":
		info.SandboxID = c.Config.Labels[labelDockerSandboxID]
	}
	return info, nil
}

// dockerState names the state as docker's own State.String does.
func dockerState(c *dockerConfig) string {
	s := &c.State
	switch {
	case s.Running && s.Paused:
		return "paused"
	case s.Running && s.Restarting:
		return "restarting"
	case s.Running:
		return "running"
	case s.RemovalInProgress:
		return "removing"
	case s.Dead:
		return "dead"
	case s.StartedAt.IsZero():
		return "created"
	}
	return "exited"
}

func dockerConfigName(root, id string) string {
	return path.Join(root, "containers", id, "config.v2.json")
}

// lookupDocker reads id's config.v2.json from the first docker root that
// has it.
func (s *scanner) lookupDocker(id string) (*Info, error) {
	var firstErr error
	for _, root := range s.opts.DockerRoots {
		name := dockerConfigName(root, id)
		data, err := s.read(name, s.opts.MaxFileSize)
		if err != nil {
			if !notExist(err) && firstErr == nil {
				firstErr = err
			}
			continue
		}
		info, err := parseDockerConfig(name, data, id)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		return info, nil
	}
	return nil, firstErr
}

// listDocker reads every container directory of every docker root.
func (s *scanner) listDocker(ctx context.Context, add func(*Info), report func(error)) error {
	for _, root := range s.opts.DockerRoots {
		dir := path.Join(root, "containers")
		ids, err := s.r.ReadDirNames(dir)
		if err != nil {
			if !notExist(err) {
				report(err)
			}
			continue
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !validID(id) {
				continue
			}
			name := dockerConfigName(root, id)
			data, err := s.read(name, s.opts.MaxFileSize)
			if err != nil {
				// A directory without config.v2.json is a container being
				// created or removed.
				if !notExist(err) {
					report(err)
				}
				continue
			}
			info, err := parseDockerConfig(name, data, id)
			if err != nil {
				report(err)
				continue
			}
			add(info)
		}
	}
	return nil
}

// nonEmpty returns m, or nil when it has no entries, so that an empty
// "Labels": {} and a missing one compare equal.
func nonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
