package runtimestate

import (
	"context"
	"path"
)

// containerd keeps one bundle directory per task (a created or running
// container) in its state directory, a tmpfs under /run: the v2 shim API's
// io.containerd.runtime.v2.task/<namespace>/<id>/ and the older v1
// io.containerd.runtime.v1.linux/<namespace>/<id>/, each holding the OCI
// spec as config.json. Stopped containers have no bundle.
var taskDirs = []string{
	"io.containerd.runtime.v2.task",
	"io.containerd.runtime.v1.linux",
}

// taskRuntime is the runtime a containerd namespace belongs to: dockerd
// runs its containers in "moby".
func taskRuntime(namespace string) string {
	if namespace == "moby" {
		return "docker"
	}
	return "containerd"
}

// taskNamespaces calls fn with each namespace directory of every task root;
// an error from fn ends the walk and is returned.
func (s *scanner) taskNamespaces(report func(error), fn func(dir, namespace string) error) error {
	for _, root := range s.opts.TaskRoots {
		for _, td := range taskDirs {
			dir := path.Join(root, td)
			namespaces, err := s.r.ReadDirNames(dir)
			if err != nil {
				if !notExist(err) && report != nil {
					report(err)
				}
				continue
			}
			for _, ns := range namespaces {
				if !validID(ns) {
					continue
				}
				if err := fn(path.Join(dir, ns), ns); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// readTask parses the spec of the bundle dir/id.
func (s *scanner) readTask(dir, namespace, id string) (*Info, error) {
	name := path.Join(dir, id, "config.json")
	data, err := s.read(name, s.opts.MaxFileSize)
	if err != nil {
		return nil, err
	}
	info, err := s.parseSpecFile(name, data, id, taskRuntime(namespace))
	if err != nil {
		return nil, err
	}
	info.TaskNamespace = namespace
	return info, nil
}

// lookupTask finds id's bundle in any namespace of any task root.
func (s *scanner) lookupTask(id string) (*Info, error) {
	var found *Info
	var firstErr error
	keep := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	s.taskNamespaces(keep, func(dir, ns string) error {
		info, err := s.readTask(dir, ns, id)
		switch {
		case err == nil:
			found = info
			return errStop
		case !notExist(err):
			keep(err)
		}
		return nil
	})
	if found != nil {
		return found, nil
	}
	return nil, firstErr
}

// listTasks reads every bundle of every namespace.
func (s *scanner) listTasks(ctx context.Context, add func(*Info), report func(error)) error {
	return s.taskNamespaces(report, func(dir, ns string) error {
		ids, err := s.r.ReadDirNames(dir)
		if err != nil {
			if !notExist(err) {
				report(err)
			}
			return nil
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !validID(id) {
				continue
			}
			info, err := s.readTask(dir, ns, id)
			if err != nil {
				if !notExist(err) {
					report(err)
				}
				continue
			}
			add(info)
		}
		return nil
	})
}
